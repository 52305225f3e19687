"""The archives of the mission: one :class:`Survey` record per archive with every fact the rest of the package
needs about it — its key, display name, broker class, filters, target-name field, plot marker, the extras shown
on hover and the archive's page for a matched object.

Everything that names a survey or formats a stored bandpass comes from here, so the strings a site sees (the
data service name, the ``source_name`` of every stored point, the key in ``settings.DATA_SERVICES``, the
``filter(survey)`` bandpass, the target-name fields) never drift apart. The records are plain data, importable
before Django is set up: a site's ``settings.py`` reads them (``SURVEY_NAME_EXTRA_FIELDS``,
``brokers.IMPLEMENTED_SOURCE_NAMES``), which is why they are not class attributes of the brokers (importing a
broker imports TOM's models). Each broker reads its own record (``BHTOMBroker.survey``); the name field's rule
is in ``survey_names.RULES`` under the field's label. Another installed package adds an archive by declaring its
record under the entry point group ``tom_bhtom_brokers.archives`` (docs/adding-an-archive.md).
"""
from enum import Enum
from importlib.metadata import entry_points

from tom_bhtom_brokers.declaration import Survey

#: the entry point group where another package declares an archive of its own (a ``Survey`` record)
ENTRY_POINT_GROUP = "tom_bhtom_brokers.archives"


#: in the order sites see them (status table, Data Services menu, update summary)
BUILT_IN = (
    Survey("GAIA_ALERTS", "Gaia Alerts", "gaia_alerts:GaiaAlertsBroker", ("G",), "circle",
           name_field="Gaia Alerts name", object_page="https://gsaweb.ast.cam.ac.uk/alerts/alert/{id}/",
           years=(2014, None)),
    Survey("NEOWISE", "NEOWISE", "neowise:NeowiseBroker", ("W1", "W2"), "square", hover=("ph_qual", "qi_fact"),
           years=(2013, 2025)),
    Survey("ALLWISE", "ALLWISE", "allwise:AllwiseBroker", ("W1", "W2"), "square-open", hover=("qi_fact",),
           years=(2009, 2012)),
    # the ZTF data releases have per-field object ids and are searched by position; the "ZTF name" (ZTF18abcdefg)
    # is the alert stream's, used by ANTARES
    Survey("ZTF", "ZTF", "ztf:ZtfBroker", ("g", "r", "i"), "circle-open", hover=("catflags", "oid"),
           years=(2018, None)),
    Survey("GAIA_DR3", "Gaia DR3", "gaia_dr3:GaiaDR3Broker", ("G", "BP", "RP"), "diamond", name_field="Gaia DR3 id",
           hover=("other_flags", "transit_id"), years=(2014, 2018)),
    Survey("CRTS", "CRTS", "crts:CrtsBroker", ("CL",), "cross", hover=("blend",), years=(2004, 2017)),
    Survey("ASASSN", "ASAS-SN", "asassn:AsassnBroker", ("V", "g"), "hourglass", name_field="ASAS-SN URL",
           name_is_url=True, years=(2012, None)),
    # B1pg ... Ipg: photographic plate systems
    Survey("CPCS", "CPCS", "cpcs:CpcsBroker", ("U", "B", "V", "R", "I", "u", "g", "r", "i", "z", "G", "CL", "J", "H",
                                               "K", "B1pg", "B2pg", "R1pg", "R2pg", "Ipg"),
           "diamond-open", name_field="CPCS name", years=(2010, None)),
    # ANTARES' own pages are per locus id; the ZTF name we record opens the object's page at ALeRCE
    Survey("ANTARES", "ANTARES", "antares:AntaresBroker", ("g", "r", "i"), "x", name_field="ZTF name",
           object_page="https://alerce.online/object/{id}", years=(2019, None)),
    Survey("AAVSO", "AAVSO", "aavso:AavsoBroker", ("U", "B", "V", "R", "I", "Vis", "TG", "TB", "TR", "CV", "CR", "SU",
                                                   "SG", "SR", "SI", "SZ", "J", "H", "K"),
           "star-diamond", name_field="AAVSO name", years=(1890, None)),
    # c/o; a few results hold other filters, kept as they are
    Survey("ATLAS", "ATLAS", "atlas:AtlasBroker", ("c", "o", "g", "r", "i", "H"), "bowtie", name_field="ATLAS URL",
           name_is_url=True, years=(2015, None)),
    Survey("SDSS", "SDSS", "sdss:SdssBroker", ("u", "g", "r", "i", "z"), "hexagon", name_field="SDSS objid",
           years=(1998, 2010)),
    Survey("PS1", "PS1", "ps1:Ps1Broker", ("g", "r", "i", "z", "y"), "pentagon", name_field="PS1 objID",
           years=(2009, 2015)),
    Survey("FIRST", "FIRST", "first:FirstBroker", ("Flux 1.4GHz",), "star", years=(1993, 2012)),
    Survey("LINEAR", "LINEAR", "linear:LinearBroker", ("CL",), "triangle-up", name_field="LINEAR id",
           years=(1998, 2010)),
    # Rubin's alert stream through Fink (or ANTARES); "kind" tells detections from forced photometry
    Survey("LSST", "LSST", "lsst:LsstBroker", ("u", "g", "r", "i", "z", "y"), "star-triangle-up",
           name_field="LSST diaObjectId", hover=("kind", "visit"), years=(2025, None)),
    # not TOM Toolkit's own "ALeRCE" data service: another name, bandpasses g(ALeRCE) ...
    Survey("ALERCE", "ALeRCE ZTF", "alerce:AlerceBroker", ("g", "r", "i"), "circle-x", name_field="ZTF name",
           hover=("kind", "magnitude_kind", "dubious"), object_page="https://alerce.online/object/{id}",
           band_label="ALeRCE", years=(2018, None)),
    Survey("OGLE_EWS", "OGLE EWS", "ogle_ews:OgleEwsBroker", ("I",), "triangle-left", name_field="OGLE EWS name",
           hover=("seeing_px", "sky"), band_label="OGLE", years=(2010, None)),
    # one series per site (each its own zero point): I-KMTA (SSO), I-KMTC (CTIO), I-KMTS (SAAO)
    Survey("KMTNET", "KMTNet", "kmtnet:KmtnetBroker", ("I-KMTA", "I-KMTC", "I-KMTS"), "triangle-right",
           name_field="KMTNet name", name_pattern=r"^KMT-20\d{2}-BLG-\d{4}$", name_example="KMT-2017-BLG-2573",
           hover=("field", "fwhm_px", "sky"), years=(2016, None)),
    Survey("PTF", "PTF", "ptf:PtfBroker", ("g", "R"), "square-x", hover=("oid",), years=(2009, 2017)),
    Survey("SKYMAPPER", "SkyMapper", "skymapper:SkymapperBroker", ("u", "v", "g", "r", "i", "z"), "diamond-tall",
           hover=("image_id", "flags"), years=(2014, 2021)),
    Survey("NSC", "NSC", "nsc:NscBroker", ("u", "g", "r", "i", "z", "Y", "VR"), "pentagon-open",
           hover=("exposure", "flags"), years=(2012, 2019)),
    # APASS-calibrated plate magnitudes (B-like)
    Survey("DASCH", "DASCH", "dasch:DaschBroker", ("B",), "star-square-open",
           hover=("series", "plate_number", "aflags"), years=(1880, 1992)),
    Survey("TESS", "TESS", "tess:TessBroker", ("T",), "hexagram-open", name_field="TIC id",
           name_pattern=r"^(TIC ?)?\d{1,10}$", name_example="TIC 443387847", hover=("sector", "product", "cadences"),
           object_page="https://exofop.ipac.caltech.edu/tess/target.php?id={id}", years=(2018, None)),
    # forced photometry at the target's position (a job at IPAC), apart from the data releases' "ZTF" points
    Survey("ZTF_FPS", "ZTF FPS", "ztf_fps:ZtfFpsBroker", ("g", "r", "i"), "circle-x-open",
           hover=("magnitude_kind", "field", "rfid", "procstatus"), years=(2018, None)),
    Survey("VIRAC2", "VIRAC2", "virac2:Virac2Broker", ("Z", "Y", "J", "H", "Ks"), "triangle-sw-open",
           years=(2010, 2023)),
    # X-ray energy fluxes (drawn in the flux panel, as FIRST's radio fluxes are)
    Survey("SWIFT_XRT", "Swift-XRT", "swift_xrt:SwiftXrtBroker", ("0.3-10keV",), "asterisk-open",
           hover=("count_rate", "half_width_days"), years=(2005, None)),
)


def declared_elsewhere():
    """The archives other installed packages declare (entry points of ``ENTRY_POINT_GROUP``), by name."""
    found = [point.load() for point in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda p: p.name)]
    return tuple(survey for survey in found if isinstance(survey, Survey))


#: every archive: this package's, then those other packages declare
SURVEYS = BUILT_IN + declared_elsewhere()

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
