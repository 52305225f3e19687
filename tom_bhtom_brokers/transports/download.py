"""Cached downloads: an archive's file or list fetched once and kept, so an update costs the archive nothing while
the copy is good. Two kinds, one rule: a copy is kept only once it reads (``validate``), a copy made before a
forced run's start (``refresh_before``, UNIX time) is fetched again, and a copy that no longer reads is dropped.

* :class:`FileCache`: files on disk, one folder per archive host, written whole or not at all (LINEAR's public
  sample: its target list and its light-curve tarball);
* :func:`cached_value`: a small value in the site's Django cache, shared by its processes (OGLE's season lists).
"""
import os
import re
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from django.core.cache import cache

from tom_bhtom_brokers.exceptions import BrokerParseError

#: one download at a time per process: two threads asking for the same missing file fetch it once
_lock = threading.Lock()


class FileCache:
    """An archive host's files kept in ``folder`` / <host>; ``download(name)`` -> (bytes, url) fetches one."""

    #: held while a file is fetched, checked or dropped (and by an adapter while it unpacks one)
    lock = _lock

    def __init__(self, folder, base_url, download):
        # one folder per archive host, so files from another server (a test archive) are never taken for these
        self.folder = Path(folder) / re.sub(r"[^\w.-]+", "_", urlsplit(base_url).netloc)
        self.download = download

    def path(self, name, validate, refresh_before=None, on_drop=None):
        """The path of file ``name``, downloaded the first time (and again when it was cached before
        ``refresh_before``). ``validate(bytes)`` must accept it before it is kept: a truncated or absurd file is an
        error now, never a cache that fails every later update. ``on_drop(path)``: what else goes with a copy."""
        path = self.folder / name
        with self.lock:
            if path.is_file() and refresh_before and path.stat().st_mtime < refresh_before:
                self.drop(path, on_drop)
            if not path.is_file():
                content, url = self.download(name)
                try:
                    validate(content)
                except BrokerParseError as exc:
                    raise BrokerParseError(exc.reason, url=url) from None
                path.parent.mkdir(parents=True, exist_ok=True)
                partial = private_name(path)
                partial.write_bytes(content)
                os.replace(partial, path)  # never a half-written cache file (and the last process's copy wins)
        return path

    @staticmethod
    def drop(path, on_drop=None):
        """Forget a cached file (and what was made from it)."""
        path.unlink(missing_ok=True)
        if on_drop is not None:
            on_drop(path)


def private_name(path):
    """A name beside ``path`` that only this process and thread writes under: two processes sharing a cache folder
    (a fleet's workers) never write into one another's partial copy."""
    return path.with_name(f"{path.name}.partial-{os.getpid()}-{threading.get_ident()}")


def cached_value(key, fetch, timeout=None, refresh_before=None):
    """``fetch()``'s value, kept in the site's cache under ``key`` for ``timeout`` seconds (None: for good), asked
    again when it was kept before ``refresh_before``. A cached entry of another shape (an older version's) is
    asked again."""
    kept = cache.get(key)
    if isinstance(kept, tuple) and len(kept) == 2 and not (refresh_before and kept[0] < refresh_before):
        return kept[1]
    value = fetch()
    cache.set(key, (time.time(), value), timeout=timeout)
    return value
