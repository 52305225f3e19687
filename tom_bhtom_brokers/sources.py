"""The archives of the mission, their display names, target-name fields and filters.

Everything that names a survey or formats a stored bandpass comes from here, so the
strings a site sees (the data service name, the ``source_name`` of every stored point,
the key in ``settings.DATA_SERVICES``, the ``filter(survey)`` bandpass) never drift apart.
"""
from enum import Enum


class DataSource(str, Enum):
    """One public photometric archive."""

    GAIA_ALERTS = "GAIA_ALERTS"
    GAIA_DR3 = "GAIA_DR3"
    NEOWISE = "NEOWISE"
    ALLWISE = "ALLWISE"
    CRTS = "CRTS"
    FIRST = "FIRST"
    ZTF = "ZTF"
    ANTARES = "ANTARES"
    SDSS = "SDSS"
    PS1 = "PS1"
    LINEAR = "LINEAR"
    CPCS = "CPCS"
    ASASSN = "ASASSN"
    ATLAS = "ATLAS"
    AAVSO = "AAVSO"


#: Display name of each archive; also the broker's ``name`` and the stored ``source_name``.
PRETTY_SURVEY_NAME = {
    DataSource.GAIA_ALERTS: "Gaia Alerts",
    DataSource.GAIA_DR3: "Gaia DR3",
    DataSource.NEOWISE: "NEOWISE",
    DataSource.ALLWISE: "ALLWISE",
    DataSource.CRTS: "CRTS",
    DataSource.FIRST: "FIRST",
    DataSource.ZTF: "ZTF",
    DataSource.ANTARES: "ANTARES",
    DataSource.SDSS: "SDSS",
    DataSource.PS1: "PS1",
    DataSource.LINEAR: "LINEAR",
    DataSource.CPCS: "CPCS",
    DataSource.ASASSN: "ASAS-SN",
    DataSource.ATLAS: "ATLAS",
    DataSource.AAVSO: "AAVSO",
}

#: Label of the target-name field (a ``TargetExtra`` key) that ties a target to the archive's object.
#: Archives searched only by position have no entry. The "ZTF name" (ZTF18abcdefg) is the alert stream's, used
#: by ANTARES; the ZTF data releases have per-field object ids instead and are searched by position.
TARGET_NAME_KEYS = {
    DataSource.GAIA_ALERTS: "Gaia Alerts name",
    DataSource.GAIA_DR3: "Gaia DR3 id",
    DataSource.ANTARES: "ZTF name",
    DataSource.SDSS: "SDSS objid",
    DataSource.PS1: "PS1 objID",
    DataSource.LINEAR: "LINEAR id",
    DataSource.CPCS: "CPCS name",
    DataSource.ASASSN: "ASAS-SN URL",
    DataSource.ATLAS: "ATLAS URL",
    DataSource.AAVSO: "AAVSO name",
}

#: The filters each archive may deliver; a point in any other filter is dropped with a warning.
FILTERS = {
    DataSource.GAIA_ALERTS: ("G",),
    DataSource.GAIA_DR3: ("G", "BP", "RP"),
    DataSource.NEOWISE: ("W1", "W2"),
    DataSource.ALLWISE: ("W1", "W2"),
    DataSource.CRTS: ("CL",),
    DataSource.FIRST: ("Flux 1.4GHz",),
    DataSource.ZTF: ("g", "r", "i"),
    DataSource.ANTARES: ("g", "r", "i"),
    DataSource.SDSS: ("u", "g", "r", "i", "z"),
    DataSource.PS1: ("g", "r", "i", "z", "y"),
    DataSource.LINEAR: ("CL",),
    DataSource.CPCS: ("U", "B", "V", "R", "I", "u", "g", "r", "i", "z", "G", "CL", "J", "H", "K",
                      "B1pg", "B2pg", "R1pg", "R2pg", "Ipg"),  # the last: photographic plate systems
    DataSource.ASASSN: ("V", "g"),
    DataSource.ATLAS: ("c", "o", "g", "r", "i", "H"),  # c/o; a few results hold other filters, kept as they are
    DataSource.AAVSO: ("U", "B", "V", "R", "I", "Vis", "TG", "TB", "TR", "CV", "CR", "SU", "SG", "SR", "SI", "SZ",
                       "J", "H", "K"),
}

#: Survey-name fields ready to add to a site's ``settings.EXTRA_FIELDS`` so TOM's own target
#: forms show and edit them (one entry per distinct label).
SURVEY_NAME_EXTRA_FIELDS = [
    {"name": label, "type": "string"} for label in dict.fromkeys(TARGET_NAME_KEYS.values())
]


def bandpass(source: DataSource, filter_name: str) -> str:
    """The stored bandpass, BHTOM's ``filter(survey)`` convention: ``bandpass(NEOWISE, "W1") == "W1(NEOWISE)"``."""
    return f"{filter_name}({PRETTY_SURVEY_NAME[source]})"
