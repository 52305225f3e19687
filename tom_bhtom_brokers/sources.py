"""The archives of the mission: one :class:`Survey` record per archive with every fact the rest of the package
needs about it — its key, display name, broker class, filters, target-name field, plot marker, the extras shown
on hover and the archive's page for a matched object.

Everything that names a survey or formats a stored bandpass comes from here, so the strings a site sees (the
data service name, the ``source_name`` of every stored point, the key in ``settings.DATA_SERVICES``, the
``filter(survey)`` bandpass, the target-name fields) never drift apart. The records are plain data, importable
before Django is set up: a site's ``settings.py`` reads them (``SURVEY_NAME_EXTRA_FIELDS``,
``brokers.IMPLEMENTED_SOURCE_NAMES``), which is why they are not class attributes of the brokers (importing a
broker imports TOM's models). Each broker reads its own record (``BHTOMBroker.survey``); the name field's rule
is in ``survey_names.RULES`` under the field's label.
"""
from dataclasses import dataclass
from enum import Enum


@dataclass(frozen=True)
class Survey:
    """What the package knows of one archive besides how to talk to it (that is its broker module)."""

    #: the ``DataSource`` key
    key: str
    #: display name: the broker's ``name``, the stored ``source_name``, the ``DATA_SERVICES`` key
    name: str
    #: the broker class, ``module:Class`` under ``tom_bhtom_brokers.brokers``
    broker: str
    #: the filters the archive may deliver; a point in any other filter is dropped with a warning
    filters: tuple
    #: the plot marker (plotly symbol) of its points; limits are open downward triangles whatever the survey
    marker: str
    #: label of the target-name field (a ``TargetExtra`` key) that ties a target to the archive's object; None for
    #: archives found by position only
    name_field: str | None = None
    #: the value of the name field is itself the archive's page (a pasted URL)
    name_is_url: bool = False
    #: per-point extras worth showing on hover (flags and quality), in this order
    hover: tuple = ()
    #: the archive's page for a matched object ({id}: the matched identifier), if it has one
    object_page: str = ""
    #: the survey named in its stored bandpasses, ``filter(label)``, where it is not ``name``
    band_label: str | None = None


#: in the order sites see them (status table, Data Services menu, update summary)
SURVEYS = (
    Survey("GAIA_ALERTS", "Gaia Alerts", "gaia_alerts:GaiaAlertsBroker", ("G",), "circle",
           name_field="Gaia Alerts name", object_page="https://gsaweb.ast.cam.ac.uk/alerts/alert/{id}/"),
    Survey("NEOWISE", "NEOWISE", "neowise:NeowiseBroker", ("W1", "W2"), "square", hover=("ph_qual", "qi_fact")),
    Survey("ALLWISE", "ALLWISE", "allwise:AllwiseBroker", ("W1", "W2"), "square-open", hover=("qi_fact",)),
    # the ZTF data releases have per-field object ids and are searched by position; the "ZTF name" (ZTF18abcdefg)
    # is the alert stream's, used by ANTARES
    Survey("ZTF", "ZTF", "ztf:ZtfBroker", ("g", "r", "i"), "circle-open", hover=("catflags", "oid")),
    Survey("GAIA_DR3", "Gaia DR3", "gaia_dr3:GaiaDR3Broker", ("G", "BP", "RP"), "diamond", name_field="Gaia DR3 id",
           hover=("other_flags", "transit_id")),
    Survey("CRTS", "CRTS", "crts:CrtsBroker", ("CL",), "cross", hover=("blend",)),
    Survey("ASASSN", "ASAS-SN", "asassn:AsassnBroker", ("V", "g"), "hourglass", name_field="ASAS-SN URL",
           name_is_url=True),
    # B1pg ... Ipg: photographic plate systems
    Survey("CPCS", "CPCS", "cpcs:CpcsBroker", ("U", "B", "V", "R", "I", "u", "g", "r", "i", "z", "G", "CL", "J", "H",
                                               "K", "B1pg", "B2pg", "R1pg", "R2pg", "Ipg"),
           "diamond-open", name_field="CPCS name"),
    # ANTARES' own pages are per locus id; the ZTF name we record opens the object's page at ALeRCE
    Survey("ANTARES", "ANTARES", "antares:AntaresBroker", ("g", "r", "i"), "x", name_field="ZTF name",
           object_page="https://alerce.online/object/{id}"),
    Survey("AAVSO", "AAVSO", "aavso:AavsoBroker", ("U", "B", "V", "R", "I", "Vis", "TG", "TB", "TR", "CV", "CR", "SU",
                                                   "SG", "SR", "SI", "SZ", "J", "H", "K"),
           "star-diamond", name_field="AAVSO name"),
    # c/o; a few results hold other filters, kept as they are
    Survey("ATLAS", "ATLAS", "atlas:AtlasBroker", ("c", "o", "g", "r", "i", "H"), "bowtie", name_field="ATLAS URL",
           name_is_url=True),
    Survey("SDSS", "SDSS", "sdss:SdssBroker", ("u", "g", "r", "i", "z"), "hexagon", name_field="SDSS objid"),
    Survey("PS1", "PS1", "ps1:Ps1Broker", ("g", "r", "i", "z", "y"), "pentagon", name_field="PS1 objID"),
    Survey("FIRST", "FIRST", "first:FirstBroker", ("Flux 1.4GHz",), "star"),
    Survey("LINEAR", "LINEAR", "linear:LinearBroker", ("CL",), "triangle-up", name_field="LINEAR id"),
    # Rubin's alert stream through Fink (or ANTARES); "kind" tells detections from forced photometry
    Survey("LSST", "LSST", "lsst:LsstBroker", ("u", "g", "r", "i", "z", "y"), "star-triangle-up",
           name_field="LSST diaObjectId", hover=("kind", "visit")),
    # not TOM Toolkit's own "ALeRCE" data service: another name, bandpasses g(ALeRCE) ...
    Survey("ALERCE", "ALeRCE ZTF", "alerce:AlerceBroker", ("g", "r", "i"), "circle-x", name_field="ZTF name",
           hover=("kind", "magnitude_kind", "dubious"), object_page="https://alerce.online/object/{id}",
           band_label="ALeRCE"),
    Survey("OGLE_EWS", "OGLE EWS", "ogle_ews:OgleEwsBroker", ("I",), "triangle-left", name_field="OGLE EWS name",
           hover=("seeing_px", "sky"), band_label="OGLE"),
    Survey("PTF", "PTF", "ptf:PtfBroker", ("g", "R"), "square-x", hover=("oid",)),
)

#: one public photometric archive
DataSource = Enum("DataSource", {survey.key: survey.key for survey in SURVEYS}, type=str, module=__name__)
#: each archive's record
SURVEY = {DataSource(survey.key): survey for survey in SURVEYS}

#: Display name of each archive; also the broker's ``name`` and the stored ``source_name``.
PRETTY_SURVEY_NAME = {source: survey.name for source, survey in SURVEY.items()}
#: Label of the target-name field of each archive found by name.
TARGET_NAME_KEYS = {source: survey.name_field for source, survey in SURVEY.items() if survey.name_field}
#: The filters each archive may deliver.
FILTERS = {source: survey.filters for source, survey in SURVEY.items()}

#: Survey-name fields ready to add to a site's ``settings.EXTRA_FIELDS`` so TOM's own target
#: forms show and edit them (one entry per distinct label).
SURVEY_NAME_EXTRA_FIELDS = [
    {"name": label, "type": "string"} for label in dict.fromkeys(TARGET_NAME_KEYS.values())
]


def bandpass(source: DataSource, filter_name: str) -> str:
    """The stored bandpass, BHTOM's ``filter(survey)`` convention: ``bandpass(NEOWISE, "W1") == "W1(NEOWISE)"``."""
    return f"{filter_name}({SURVEY[source].band_label or PRETTY_SURVEY_NAME[source]})"
