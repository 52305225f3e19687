"""The survey names and URLs that tie a target to each archive: what a valid one looks like, and the
form that edits them as the target's extras (the keys in ``sources.TARGET_NAME_KEYS``).

One rule per field, used by the form (a person typing) and by the brokers (a value already stored,
perhaps through TOM's own target form, which does not validate extras).
"""
import re
from urllib.parse import urlsplit

from django import forms

from tom_bhtom_brokers.sources import SURVEYS, TARGET_NAME_KEYS, DataSource

GAIA_ALERT_NAME = re.compile(r"^Gaia\d{2}[a-z]{1,4}$")
GAIA_DR3_ID = re.compile(r"^(?:Gaia DR3\s+)?(\d{1,19})$")
ZTF_NAME = re.compile(r"^ZTF\d{2}[a-z]{7}$")
INTEGER_ID = re.compile(r"^\d{1,20}$")
CPCS_NAME = re.compile(r"^ivo://[\w.+\-/]+$")
#: one Rubin diaObjectId, or a comma list of a few (one star split into several diaObjects)
DIA_OBJECT_IDS = re.compile(r"^\d{1,20}(,\s?\d{1,20}){0,9}$")
OGLE_EWS_NAME = re.compile(r"^OGLE-(?P<year>20\d{2})-(?P<field>BLG|GD)-(?P<number>\d{4})$")
AAVSO_NAME = re.compile(r"^[\w .+\-*:/()\[\]']{1,60}$")

#: hosts a pasted URL may point to; no request is ever made to any other
ASASSN_HOSTS = ("asas-sn.osu.edu",)
ATLAS_HOSTS = ("fallingstar-data.com",)
#: the Sky Patrol v1 pages a user may paste, and the CSV export each offers
ASASSN_PAGES = (
    (re.compile(r"^/sky-patrol/coordinate/(?P<id>[0-9a-f-]{36})(?:/export\.csv)?/?$"),
     "/sky-patrol/coordinate/{id}/export.csv"),
    (re.compile(r"^/photometry/(?P<id>[0-9a-f-]{36})(?:\.csv)?/?$"), "/photometry/{id}.csv"),
    (re.compile(r"^/variables/(?P<id>[\w-]+?)(?:\.csv)?/?$"), "/variables/{id}.csv"),
)
#: a finished forced-photometry result file, as the server names them
ATLAS_RESULT_PATH = re.compile(r"^/forcedphot/static/results/job\d+\.txt$")


def asassn_export_path(path):
    """The CSV export of a Sky Patrol page's path, or None for any other path."""
    for pattern, template in ASASSN_PAGES:
        match = pattern.match(path)
        if match:
            return template.format(id=match.group("id"))
    return None


def archive_url(value, hosts, is_page, example):
    """A pasted archive URL, checked: https/http on one of ``hosts`` with a path the archive serves."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or parts.hostname not in hosts:
        raise ValueError(f"must be an address on {' or '.join(hosts)}, e.g. {example}")
    if parts.username or parts.password or parts.port not in (None, 80, 443):
        raise ValueError("must not carry a user name, password or port")
    if not is_page(parts.path):
        raise ValueError(f"is not a page this archive serves light curves from, e.g. {example}")
    return value


def _pattern(regex, explanation):
    def check(value):
        if not regex.match(value):
            raise ValueError(explanation)
        return value
    return check


#: label -> (check raising ValueError with the reason, help text)
RULES = {
    TARGET_NAME_KEYS[DataSource.GAIA_ALERTS]: (
        _pattern(GAIA_ALERT_NAME, "is 'Gaia', two digits and lower-case letters, e.g. Gaia18cbf"), "e.g. Gaia18cbf"),
    TARGET_NAME_KEYS[DataSource.GAIA_DR3]: (
        _pattern(GAIA_DR3_ID, "is a Gaia DR3 source_id, an integer, e.g. 4043383456173344256"),
        "source_id, e.g. 4043383456173344256"),
    TARGET_NAME_KEYS[DataSource.ANTARES]: (
        _pattern(ZTF_NAME, "is 'ZTF', two digits and seven lower-case letters, e.g. ZTF18abcdefg"),
        "e.g. ZTF18abcdefg"),
    TARGET_NAME_KEYS[DataSource.SDSS]: (_pattern(INTEGER_ID, "is an SDSS objid, an integer"), "an integer"),
    TARGET_NAME_KEYS[DataSource.PS1]: (_pattern(INTEGER_ID, "is a PS1 objID, an integer"), "an integer"),
    TARGET_NAME_KEYS[DataSource.LINEAR]: (_pattern(INTEGER_ID, "is a LINEAR object id, an integer"), "an integer"),
    TARGET_NAME_KEYS[DataSource.CPCS]: (
        _pattern(CPCS_NAME, "is a CPCS alert name starting with ivo://, e.g. ivo://Gaia19drz"), "e.g. ivo://Gaia19drz"),
    TARGET_NAME_KEYS[DataSource.ASASSN]: (
        lambda value: archive_url(value, ASASSN_HOSTS, asassn_export_path,
                                  "https://asas-sn.osu.edu/sky-patrol/coordinate/<id>"),
        "a Sky Patrol coordinate, photometry or variables page on asas-sn.osu.edu"),
    TARGET_NAME_KEYS[DataSource.ATLAS]: (
        lambda value: archive_url(value, ATLAS_HOSTS, ATLAS_RESULT_PATH.match,
                                  "https://fallingstar-data.com/forcedphot/static/results/job<n>.txt"),
        "a finished forced-photometry result on fallingstar-data.com"),
    TARGET_NAME_KEYS[DataSource.AAVSO]: (
        _pattern(AAVSO_NAME, "is a VSX star name or AUID (letters, digits, spaces, + - . only)"),
        "a VSX name or AUID, e.g. SS Cyg"),
    TARGET_NAME_KEYS[DataSource.LSST]: (
        _pattern(DIA_OBJECT_IDS, "is a Rubin diaObjectId, an integer (or a comma list of up to ten)"),
        "e.g. 170587117485817955"),
    TARGET_NAME_KEYS[DataSource.OGLE_EWS]: (
        _pattern(OGLE_EWS_NAME, "is 'OGLE-', the year, BLG or GD and four digits, e.g. OGLE-2019-BLG-0001"),
        "e.g. OGLE-2019-BLG-0001"),
}
# an archive declared by another package brings its rule as a pattern (``Survey.name_pattern``)
RULES.update({survey.name_field: (_pattern(re.compile(survey.name_pattern), f"is like {survey.name_example}"),
                                  f"e.g. {survey.name_example}")
              for survey in SURVEYS if survey.name_pattern and survey.name_field not in RULES})
# one order everywhere a target's survey names are listed (TOM's target form, the names page, the tab): the
# archives' declaration order, which SURVEY_NAME_EXTRA_FIELDS follows
RULES = {label: RULES[label] for label in dict.fromkeys(TARGET_NAME_KEYS.values())}


#: label -> the same rule as a browser pattern (HTML ``pattern``: anchored, JavaScript's ``v`` flag, so ``/``, ``(``
#: and ``)`` are escaped inside classes), for TOM's own target form (``navbar_context``), which has no validation of
#: its own; ``tests/test_survey_names.py`` holds each against its rule on valid and invalid values
BROWSER_PATTERNS = {
    TARGET_NAME_KEYS[DataSource.GAIA_ALERTS]: r"Gaia\d{2}[a-z]{1,4}",
    TARGET_NAME_KEYS[DataSource.GAIA_DR3]: r"(Gaia DR3\s+)?\d{1,19}",
    TARGET_NAME_KEYS[DataSource.ANTARES]: r"ZTF\d{2}[a-z]{7}",
    TARGET_NAME_KEYS[DataSource.SDSS]: r"\d{1,20}",
    TARGET_NAME_KEYS[DataSource.PS1]: r"\d{1,20}",
    TARGET_NAME_KEYS[DataSource.LINEAR]: r"\d{1,20}",
    TARGET_NAME_KEYS[DataSource.CPCS]: r"ivo:\/\/[\w.+\-\/]+",
    TARGET_NAME_KEYS[DataSource.ASASSN]: (
        r"https?:\/\/asas-sn\.osu\.edu\/(sky-patrol\/coordinate\/[0-9a-f\-]{36}(\/export\.csv)?\/?"
        r"|photometry\/[0-9a-f\-]{36}(\.csv)?\/?|variables\/[\w\-]+(\.csv)?\/?)"),
    TARGET_NAME_KEYS[DataSource.ATLAS]: r"https?:\/\/fallingstar-data\.com\/forcedphot\/static\/results\/job\d+\.txt",
    TARGET_NAME_KEYS[DataSource.AAVSO]: r"[\w .+\-*:\/\(\)\[\]']{1,60}",
    TARGET_NAME_KEYS[DataSource.LSST]: r"\d{1,20}(,\s?\d{1,20}){0,9}",
    TARGET_NAME_KEYS[DataSource.OGLE_EWS]: r"OGLE-20\d{2}-(BLG|GD)-\d{4}",
}
# a declared pattern without its anchors, and "/" escaped (a pattern of letters, digits, classes and counts, as
# ``name_pattern`` asks, reads the same in JavaScript)
BROWSER_PATTERNS.update({survey.name_field: survey.name_pattern.removeprefix("^").removesuffix("$").replace("/", r"\/")
                         for survey in SURVEYS if survey.name_pattern and survey.name_field not in BROWSER_PATTERNS})


def form_fields():
    """What TOM's target form needs to edit each name as the tab's form does: label, help, rule (browser pattern)
    and what to say when the rule refuses a value."""
    out = []
    for label, (rule, help_text) in RULES.items():
        try:
            rule("")
        except ValueError as exc:
            refusal = f"{label} {exc}"
        else:  # pragma: no cover - every rule refuses an empty value
            refusal = f"not a valid {label}"
        out.append({"label": label, "help": help_text, "pattern": BROWSER_PATTERNS[label], "refusal": refusal})
    return out


def check(label, value):
    """The reason ``value`` is not a valid ``label``, or None when it is."""
    try:
        RULES[label][0](value)
    except ValueError as exc:
        return f"{label} {exc}"
    return None


def field_name(label):
    """A form field name for a label ('Gaia Alerts name' -> 'gaia_alerts_name')."""
    return re.sub(r"\W+", "_", label).strip("_").lower()


class SurveyNamesForm(forms.Form):
    """One optional field per archive name; an empty field removes the name."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for label, (_, help_text) in RULES.items():
            self.fields[field_name(label)] = forms.CharField(label=label, required=False, max_length=500,
                                                             help_text=help_text, strip=True)

    @classmethod
    def initial_for(cls, extras):
        return {field_name(label): extras.get(label, "") for label in RULES}

    def clean(self):
        data = super().clean()
        for label in RULES:
            name = field_name(label)
            value = data.get(name)
            if value:
                reason = check(label, value)
                if reason:
                    self.add_error(name, reason)
        return data

    def names(self):
        """label -> value ('' for a name to remove), once valid."""
        return {label: self.cleaned_data.get(field_name(label), "") for label in RULES}
