"""What TOM Toolkit sees of an archive: the ``DataService`` interface (Manage Data's query, Data Services' cone
form and results table, "Create Targets") for every broker, on top of the fetch chain.

TOM calls ``query_photometry`` / ``create_reduced_datums_from_query`` for a target's update and ``query_targets``
/ ``create_target_from_query`` for a cone from its Data Services page; each is a thin adapter to
``lightcurve_for`` and the recording of a pair's answer (``recording``).
"""
import astropy.units as u
from astropy.coordinates import SkyCoord
from django import forms
from tom_dataproducts.models import PhotometryReducedDatum
from tom_dataservices.dataservices import DataService, get_data_service_class
from tom_dataservices.forms import BaseQueryForm
from tom_targets.models import Target

from tom_bhtom_brokers.exceptions import JobPostponed, JobQueued
from tom_bhtom_brokers.recording import record_success, record_waiting, with_queued_job
from tom_bhtom_brokers.target_info import TargetInfo


class ConeQueryForm(BaseQueryForm):
    """The Data Services query form of a cone-search broker: a position and a radius, which shows the broker's
    own radius (its ``match_radius`` or the site's ``radius_arcsec``) until the user changes it."""

    ra = forms.FloatField(label="RA (deg)", min_value=0, max_value=360)
    dec = forms.FloatField(label="Dec (deg)", min_value=-90, max_value=90)
    radius_arcsec = forms.FloatField(label="Radius (arcsec)", required=False, min_value=0.01, max_value=600)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # TOM's view puts the service's name in the initial data (a new query) or the posted data
        name = self.initial.get("data_service") or self.data.get("data_service")
        try:
            broker = get_data_service_class(name)
        except Exception:  # noqa: BLE001 - an unknown name is TOM's view's to refuse, not the form's
            return
        if issubclass(broker, TomDataService):
            radius = broker().radius.to_value(u.arcsec)
            self.initial.setdefault("radius_arcsec", radius)
            self.fields["radius_arcsec"].help_text = f"default {radius:g} arcsec"


class TomDataService(DataService):
    """TOM Toolkit's ``DataService`` interface of a broker (a base of ``BHTOMBroker``)."""

    def build_query_parameters_from_target(self, target, **kwargs):
        return {"target_id": target.pk}

    def query_photometry(self, query_parameters, **kwargs):
        """TOM's Manage Data form and ``updatereduceddata`` come here; returns the pair's answer. A job queued at the
        archive (ATLAS) is recorded in the pair's status, so the next update collects it, and TOM shows why there
        are no points yet."""
        target = Target.objects.get(pk=query_parameters["target_id"])
        info = with_queued_job(target, self, TargetInfo.from_target(target))
        answer = self.lightcurve_for(info)
        if answer.job is not None or answer.wait is not None:
            # recorded, so the next update collects it; raised, so TOM's page says why there are no points yet
            record_waiting(target, self, info, answer)
            raise (JobQueued(answer.job, answer.note, url=answer.url) if answer.job is not None else
                   JobPostponed(answer.note, answer.wait, url=answer.url))
        return answer

    def create_reduced_datums_from_query(self, target, data, data_type=None, **kwargs):
        """Store the answer from ``query_photometry`` through our sync, and record the pair's status."""
        record_success(target, self, TargetInfo.from_target(target), data)
        return list(PhotometryReducedDatum.objects.filter(target=target, source_name=self.name))

    @classmethod
    def get_form_class(cls):
        return ConeQueryForm

    #: the results table of the Data Services form: (key of a ``query_targets`` result, column header)
    result_columns = (("name", "Name"), ("ra", "RA (deg)"), ("dec", "Dec (deg)"), ("identifier", "Matched object"),
                      ("points", "Points"))
    #: TOM's default table heads each column with its key re-cased and adds the row counter as an "Id" column
    query_results_table = "tom_bhtom_brokers/partials/query_results_table.html"

    def get_additional_context_data(self):
        return {"result_columns": self.result_columns}

    def build_query_parameters(self, parameters, **kwargs):
        radius = parameters.get("radius_arcsec") or self.radius.to_value(u.arcsec)
        return {"ra": parameters.get("ra"), "dec": parameters.get("dec"), "radius_arcsec": float(radius)}

    def query_service(self, query_parameters, **kwargs):
        return self.query_targets(query_parameters, **kwargs)

    def query_targets(self, query_parameters, **kwargs):
        """A cone from the Data Services form: the archive object found there, ready to become a target."""
        ra, dec = float(query_parameters["ra"]), float(query_parameters["dec"])
        probe = TargetInfo(id=None, name="", ra=ra, dec=dec)
        self.query_parameters = query_parameters
        if query_parameters.get("radius_arcsec"):
            self._radius_override = float(query_parameters["radius_arcsec"]) * u.arcsec
        lightcurve = self.lightcurve_for(probe).lightcurve
        if not len(lightcurve):
            return []
        return [{
            "name": self.designation(lightcurve.matched_identifier) or coordinate_name(ra, dec),
            "ra": ra, "dec": dec, "identifier": lightcurve.matched_identifier, "points": len(lightcurve),
        }]

    def designation(self, identifier):
        """The name an astronomer would give the target created from ``identifier`` (TOM's "Create Targets"): a
        name as the archive writes it (ZTF18abbuksn, FU Ori, OGLE-2019-BLG-0001), a number with the archive's
        name before it (Gaia DR3 2945521337401118464), or "" for what is no name (a list of object ids, an
        internal id, a position): the target is then named by its coordinates."""
        identifier = (identifier or "").strip()
        if not identifier or "," in identifier or len(identifier) > 40:
            return ""
        if identifier.isdigit():
            return f"{self.name} {identifier}"
        words = identifier.split()
        return identifier if len(words) <= 2 and any(c.isalpha() for c in identifier) and not \
            any(word.replace(".", "").lstrip("+-").isdigit() for word in words[1:]) else ""

    def create_target_from_query(self, target_result, **kwargs):
        return Target(name=target_result["name"], type=Target.SIDEREAL, ra=target_result["ra"],
                      dec=target_result["dec"], epoch=2000.0)

    def create_target_extras_from_query(self, query_results, **kwargs):
        key = self.name_key()
        identifier = query_results.get("identifier")
        return {key: identifier} if key and identifier else {}


def coordinate_name(ra, dec):
    """An IAU-style name from a position: J060104.08-185803.7."""
    position = SkyCoord(ra * u.deg, dec * u.deg)
    return "J" + position.to_string("hmsdms", sep="", precision=2, pad=True).replace(" ", "")[:-1]
