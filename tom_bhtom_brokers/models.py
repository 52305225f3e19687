"""The state of each (target, archive) pair: what the last update found, when, and what went wrong."""
from django.db import models
from django.utils import timezone


class LightcurveUpdate(models.Model):
    """One row per target and archive, written after every update attempt."""

    class Status(models.TextChoices):
        OK = "ok", "ok"
        NO_DATA = "no_data", "no data"
        NOT_APPLICABLE = "not_applicable", "not applicable"
        NOT_CONFIGURED = "not_configured", "not configured"
        ERROR = "error", "error"
        #: the target's survey name or URL for this archive is not valid (nothing was requested)
        INVALID_NAME = "invalid_name", "invalid name"
        #: the answer would have removed more stored points than a sudden shrink may (a cut-short answer?):
        #: nothing was changed; the same answer on a later run, or ``--accept-shrink``, applies it
        SHRANK = "shrank", "answer shrank"
        #: not asked: the archive's host did not answer several requests in a row earlier in the same run; not
        #: the pair's own error, and due again next run
        UNAVAILABLE = "unavailable", "archive unavailable"
        #: a job was submitted to an archive's queue (ATLAS) and is waiting there; collected by a later pass
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"

    target = models.ForeignKey("tom_targets.BaseTarget", on_delete=models.CASCADE,
                               related_name="lightcurve_updates")
    #: The broker's name, which is also the ``source_name`` of the points it stores.
    source = models.CharField(max_length=100)
    status = models.CharField(max_length=20, choices=Status.choices)
    message = models.TextField(blank=True, default="")
    #: The archive's own identifier of the matched object (alert name, source id, position).
    matched_identifier = models.CharField(max_length=200, blank=True, default="")
    #: What the query was made from (a survey name, or a cone); a change makes the pair due again.
    queried_with = models.CharField(max_length=500, blank=True, default="")
    url = models.CharField(max_length=2000, blank=True, default="")
    #: digest of the archive's answer last stored; the same answer again is not parsed or compared
    fingerprint = models.CharField(max_length=64, blank=True, default="")
    points_added = models.PositiveIntegerField(default=0)
    points_removed = models.PositiveIntegerField(default=0)
    points_total = models.PositiveIntegerField(default=0)
    last_attempt = models.DateTimeField(default=timezone.now)
    last_success = models.DateTimeField(null=True, blank=True)
    #: when the archive's whole history was last read: between full reads, an archive that takes a time range is
    #: asked only from the last stored point on (``planning.PairState.refresh_from``)
    last_full_read = models.DateTimeField(null=True, blank=True)
    #: a job waiting in the archive's queue (ATLAS): its path on the archive, when it was submitted, and how many
    #: times a job was submitted for this pair since the last result (a job lost by the archive is resubmitted)
    job_path = models.CharField(max_length=500, blank=True, default="")
    job_submitted_at = models.DateTimeField(null=True, blank=True)
    job_attempts = models.PositiveSmallIntegerField(default=0)
    #: the MJD the job asks from (an incremental refresh; null: the whole history)
    job_asked_from = models.FloatField(null=True, blank=True)
    #: the archive's identifier of the object the last answer came from, for brokers that locate with a request
    #: of their own (``BHTOMBroker.remembers_location``): the next update asks for it directly
    located = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["target", "source"], name="unique_lightcurve_update_per_source"),
        ]
        ordering = ["target", "source"]

    def __str__(self):
        return f"{self.source} for target {self.target_id}: {self.get_status_display()}"


class TargetUpdateRequest(models.Model):
    """The last update a person asked for from a target's page: the django-tasks result id, so the page can
    say "queued" or "running" while the site's task backend reports so."""

    target = models.OneToOneField("tom_targets.BaseTarget", on_delete=models.CASCADE,
                                  related_name="lightcurve_update_request")
    task_result_id = models.CharField(max_length=100)
    backend = models.CharField(max_length=100, default="default")
    requested_by = models.CharField(max_length=150, blank=True, default="")
    requested_at = models.DateTimeField(default=timezone.now)
    #: when an update run in a thread of the web process ended (``background``); null while it runs
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"update of target {self.target_id} requested {self.requested_at:%Y-%m-%d %H:%M}"


class SurveyChange(models.Model):
    """What one refresh brought for one target, archive and band: how many new points, over which dates, and
    whether they depart from the target's own recent behaviour there (``changes.py`` says the rule; every record
    keeps the numbers it was decided on)."""

    class Kind(models.TextChoices):
        NEW_DATA = "new_data", "new data"
        FIRST_DATA = "first_data", "first data"
        BRIGHTENED = "brightened", "brightened"
        FADED = "faded", "faded"
        NEW_DETECTION = "new_detection", "new detection"
        NOT_DETECTED = "not_detected", "no longer detected"

    target = models.ForeignKey("tom_targets.BaseTarget", on_delete=models.CASCADE, related_name="survey_changes")
    #: the broker's name (the points' ``source_name``) and the points' bandpass
    source = models.CharField(max_length=100)
    bandpass = models.CharField(max_length=100)
    recorded_at = models.DateTimeField(default=timezone.now, db_index=True)
    new_points = models.PositiveIntegerField()
    first_new = models.DateTimeField()
    last_new = models.DateTimeField()
    kind = models.CharField(max_length=20, choices=Kind.choices)
    departed = models.BooleanField(default=False, db_index=True)
    unit = models.CharField(max_length=20, blank=True, default="")
    #: the baseline: median and robust scatter of the band's earlier detections within ``baseline_days``
    baseline = models.FloatField(null=True, blank=True)
    scatter = models.FloatField(null=True, blank=True)
    baseline_points = models.PositiveIntegerField(default=0)
    #: the new points: their error-weighted mean (a limit: the deepest new limit) and its error
    newest = models.FloatField(null=True, blank=True)
    newest_error = models.FloatField(null=True, blank=True)
    #: newest - baseline, and that in units of the combined error and scatter
    difference = models.FloatField(null=True, blank=True)
    significance = models.FloatField(null=True, blank=True)
    #: the rule's settings this record was decided with (sigma, min_mag or min_flux_fraction, baseline_days)
    rule = models.JSONField(default=dict)

    class Meta:
        indexes = [models.Index(fields=["target", "source", "bandpass", "recorded_at"])]
        ordering = ["-recorded_at"]

    def __str__(self):
        return f"{self.target_id} {self.source} {self.bandpass}: {self.get_kind_display()}"
