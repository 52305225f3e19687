"""How bytes are fetched from an archive: the one HTTP client (``http``) with its host limits and health
(``hosts``), TAP through pyvo (``tap``), WSDB (``wsdb``), cached downloads (``download``: LINEAR's files, OGLE's
season lists) and a job queue (``jobqueue``: ATLAS). An archive adapter says what to ask; a transport says how it
travels. A third-party client (ASAS-SN's Sky Patrol v2) is the adapter's own ``send``, behind the client's API."""
