"""One module per archive; ``BROKER_CLASSES`` maps each source this release implements to its broker (from the
archive's record in ``sources.SURVEYS``)."""
from tom_bhtom_brokers.sources import SURVEY

BROKER_CLASSES = {source: survey.broker_path for source, survey in SURVEY.items()}

#: display names of the implemented sources (the keys of their settings.DATA_SERVICES entries)
IMPLEMENTED_SOURCE_NAMES = [survey.name for survey in SURVEY.values()]
