"""One module per archive; ``BROKER_CLASSES`` maps each source this release implements to its broker."""
from tom_bhtom_brokers.sources import PRETTY_SURVEY_NAME, DataSource

BROKER_CLASSES = {
    DataSource.GAIA_ALERTS: "tom_bhtom_brokers.brokers.gaia_alerts.GaiaAlertsBroker",
    DataSource.NEOWISE: "tom_bhtom_brokers.brokers.neowise.NeowiseBroker",
    DataSource.ALLWISE: "tom_bhtom_brokers.brokers.allwise.AllwiseBroker",
    DataSource.ZTF: "tom_bhtom_brokers.brokers.ztf.ZtfBroker",
    DataSource.GAIA_DR3: "tom_bhtom_brokers.brokers.gaia_dr3.GaiaDR3Broker",
    DataSource.CRTS: "tom_bhtom_brokers.brokers.crts.CrtsBroker",
    DataSource.ASASSN: "tom_bhtom_brokers.brokers.asassn.AsassnBroker",
    DataSource.CPCS: "tom_bhtom_brokers.brokers.cpcs.CpcsBroker",
    DataSource.ANTARES: "tom_bhtom_brokers.brokers.antares.AntaresBroker",
    DataSource.AAVSO: "tom_bhtom_brokers.brokers.aavso.AavsoBroker",
    DataSource.ATLAS: "tom_bhtom_brokers.brokers.atlas.AtlasBroker",
    DataSource.SDSS: "tom_bhtom_brokers.brokers.sdss.SdssBroker",
    DataSource.PS1: "tom_bhtom_brokers.brokers.ps1.Ps1Broker",
    DataSource.FIRST: "tom_bhtom_brokers.brokers.first.FirstBroker",
    DataSource.LINEAR: "tom_bhtom_brokers.brokers.linear.LinearBroker",
}

#: display names of the implemented sources (the keys of their settings.DATA_SERVICES entries)
IMPLEMENTED_SOURCE_NAMES = [PRETTY_SURVEY_NAME[source] for source in BROKER_CLASSES]
