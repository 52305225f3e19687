"""Create the demo targets (idempotent): two by Gaia Alerts name, one found mostly by position, one with no alert,
and one each for Rubin (LSST), ALeRCE, OGLE EWS, KMTNet, DASCH, TESS, ZTF's forced photometry and
Swift-XRT, found by position."""
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand

from tom_targets.models import Target, TargetExtra

DEMO_TARGETS = [
    # name, ra, dec, survey names
    ("Gaia18cbf", 268.8875, -31.2472, {"Gaia Alerts name": "Gaia18cbf"}),
    # ANTARES by ZTF name, CPCS by its ivo:// name; in the public LINEAR sample; PTF by cone
    ("Gaia19dke", 304.7108, 55.1547, {"Gaia Alerts name": "Gaia19dke", "CPCS name": "ivo://Gaia19dke",
                                      "ZTF name": "ZTF19abdkeqz"}),
    # found by cone: alert index, WISE, ZTF, Gaia DR3, CRTS, ANTARES, ATLAS (the emulated queue), SDSS, PS1,
    # FIRST; AAVSO by name
    ("Gaia20fnr", 90.26701, -18.96770, {"AAVSO name": "Gaia20fnr"}),
    # no Gaia alert; NEOWISE, ASAS-SN from a pasted Sky Patrol coordinate job, AAVSO's long history in JD chunks,
    # its VSX name found by position (CRTS: covered, no object)
    ("FU Ori", 88.0717, 9.0680,
     {"ASAS-SN URL": "https://asas-sn.osu.edu/sky-patrol/coordinate/3f9c2d4e-7a1b-4c8d-9e0f-a1b2c3d4e5f6"}),
    # Rubin's AT 2026qhm: LSST found by Fink's cone (and its diaObjectId recorded)
    ("AT 2026qhm", 62.4576309, -48.4814921, {}),
    # a ZTF alert object found by ALeRCE's cone: detections, limits and forced photometry
    ("ZTF18abbuksn", 313.7732663, 39.0980583, {}),
    # a microlensing event found by position in OGLE EWS's season lists (the sample archive's stand-in event)
    ("OGLE sample event", 268.0, -29.5, {}),
    # the Gaia alert Gaia17bcu, whose microlensing event KMTNet found too: found by position in KMTNet's season lists
    ("Gaia17bcu", 266.54918, -25.62171, {}),
    # an APASS star near KIC 8462852 whose century of Harvard plates DASCH holds: found by position
    ("APASS J200349.5+441051", 300.95625, 44.18083, {}),
    # a star with TESS light curves in three sectors (SPOC, TESS-SPOC, QLP): its TIC id found by position
    ("TIC 443387847", 97.0302326, -6.6868466, {}),
    # a ZTF transient of 2021: ZTF's forced photometry at its position, a job queued at the (emulated) IPAC service
    ("ZTF21aaqwjlz", 245.3167016, 14.55266508, {}),
    # an X-ray source of the Swift-XRT catalogue LSXPS: its light curve through swifttools, by position
    ("LSXPS J062131.8-622213", 95.38250, -62.37028, {}),
    # no pasted URL, no name: ASAS-SN through Sky Patrol v2's cone (the recorded client's made-up position of VX Men,
    # asas_sn_id 12702), AAVSO through VSX's cone (no VSX star there in the sample archive)
    ("VX Men", 80.0, -70.0, {}),
]


class Command(BaseCommand):
    help = "Create the demo targets and an 'admin' user (password 'admin') for make serve."

    def handle(self, *args, **options):
        for name, ra, dec, names in DEMO_TARGETS:
            target, created = Target.objects.get_or_create(
                name=name, defaults={"type": Target.SIDEREAL, "ra": ra, "dec": dec, "epoch": 2000.0})
            for key, value in names.items():
                TargetExtra.objects.get_or_create(target=target, key=key, defaults={"value": value})
            self.stdout.write(f"{'created' if created else 'exists '} target {name}")
        if not User.objects.filter(username="admin").exists():
            User.objects.create_superuser("admin", "admin@example.org", "admin")
