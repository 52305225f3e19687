"""The package's signals, for a site to act on (send mail, post to a chat, start a follow-up observation).

``survey_departure``: sent once per recorded departure (``models.SurveyChange`` with ``departed``), after the
refresh's transaction is committed; arguments ``change`` (the SurveyChange) and ``target``."""
from django.dispatch import Signal

survey_departure = Signal()
