"""An archive's declaration: the :class:`Survey` record of every fact the package needs about an archive besides
how to talk to it (that is its adapter module). Plain data, importable before Django is set up, so a site's
``settings.py`` can read the records (``sources.SURVEY_NAME_EXTRA_FIELDS``) and a package of its own can declare an
archive (entry point group ``tom_bhtom_brokers.archives``, see ``sources``)."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Survey:
    """What the package knows of one archive besides how to talk to it (that is its broker module)."""

    #: the ``DataSource`` key
    key: str
    #: display name: the broker's ``name``, the stored ``source_name``, the ``DATA_SERVICES`` key
    name: str
    #: the broker class, ``module:Class`` under ``tom_bhtom_brokers.brokers`` (a full module path for another package's)
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
    #: the years the archive's photometry spans (first, last; None: still observing), checked against the real
    #: archive's answer for the probe object (tests/test_remote_archives.py) and shown in the docs
    years: tuple = (None, None)
    #: for a name field whose rule is a pattern (an archive declared outside this package): the Python regular
    #: expression a valid name matches whole, and an example shown under the field
    name_pattern: str | None = None
    name_example: str = ""

    @property
    def broker_path(self):
        """The adapter's dotted path: ``module:Class`` under ``tom_bhtom_brokers.brokers``, or a full dotted module
        path for an archive declared by another package."""
        module, cls = self.broker.split(":")
        return f"{module if '.' in module else 'tom_bhtom_brokers.brokers.' + module}.{cls}"
