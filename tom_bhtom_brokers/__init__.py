"""Archival survey light curves for TOM Toolkit sites: one broker per public archive."""

# the version salts every answer's fingerprint: a new version re-reads answers already stored, so parser fixes
# (0.3.0: Gaia Alerts' and ASAS-SN's UTC date columns, ATLAS cuts, ANTARES total magnitudes; 0.4.0: the
# locate -> query -> parse contract, TAP through pyvo, astropy's light-travel time; 0.5.0: alert photometry as
# total magnitudes or difference fluxes, answer-level facts out of the points) reach stored points
__version__ = "0.5.0"
