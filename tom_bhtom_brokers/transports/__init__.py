"""How bytes are fetched from an archive: the one HTTP client (``http``) with its host limits and health
(``hosts``), TAP through pyvo (``tap``), WSDB (``wsdb``) and a job queue (``jobqueue``). An archive adapter says
what to ask; a transport says how it travels."""
