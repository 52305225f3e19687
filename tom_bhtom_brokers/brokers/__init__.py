"""One module per archive; ``BROKER_CLASSES`` lists the ones this release implements."""

BROKER_CLASSES = [
    "tom_bhtom_brokers.brokers.gaia_alerts.GaiaAlertsBroker",
    "tom_bhtom_brokers.brokers.neowise.NeowiseBroker",
]
