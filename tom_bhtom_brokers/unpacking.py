"""Compressed answers read within limits: a zip, a gzip stream, a tarball.

A few kilobytes of zip or gzip can unpack to gigabytes (a "decompression bomb"), and a zip can hold tens of
thousands of members; their declared sizes may lie. Every reader here counts what it really unpacks and stops at
the caller's limits (an archive's ``max_unpacked_bytes`` and ``max_members``, settable like ``max_bytes``), with a
parse error that names the answer: nothing is unpacked past them, in memory or on disk.
"""
import gzip
import io
import tarfile
import zipfile
import zlib

from tom_bhtom_brokers.exceptions import BrokerParseError

CHUNK = 1024 * 1024


def over(what, limit):
    return BrokerParseError(f"the {what} unpacks to more than {limit} bytes: refused (a decompression bomb?)")


def read_capped(stream, max_bytes, what):
    """All of ``stream`` (a file object that decompresses as it is read), refusing more than ``max_bytes``."""
    chunks, size = [], 0
    while chunk := stream.read(CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise over(what, max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


def zip_members(payload, max_members, max_bytes, what):
    """(name, bytes) of each file of a zip answer, at most ``max_members`` of them and ``max_bytes`` unpacked in
    all, whatever the zip declares."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(payload))
    except zipfile.BadZipFile:
        raise BrokerParseError(f"the {what} is not a zip file (truncated or an error message)") from None
    with archive:
        infos = [info for info in archive.infolist() if not info.is_dir()]
        if len(infos) > max_members:
            raise BrokerParseError(f"the {what} holds {len(infos)} files, more than {max_members}: refused unread")
        members, left = [], max_bytes
        for info in infos:
            try:
                with archive.open(info) as stream:
                    content = read_capped(stream, left, what)
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
                raise BrokerParseError(f"damaged member {info.filename!r} of the {what}: {exc}") from None
            except BrokerParseError:
                raise over(what, max_bytes) from None
            left -= len(content)
            members.append((info.filename, content))
    return members


def gunzip(data, max_bytes, what):
    """The bytes of a gzip file, at most ``max_bytes`` of them."""
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            return read_capped(stream, max_bytes, what)
    except (OSError, EOFError, zlib.error) as exc:  # gzip's errors on what is not (whole) gzip
        raise BrokerParseError(f"the {what} is not a whole gzip file ({exc})") from None


def tar_members(tarball, accept, max_members, max_bytes, what):
    """The regular files of a gzipped tarball (a path or a file object) whose names ``accept`` takes, checked one
    header at a time (the stream is read once, never past a limit): at most ``max_members`` entries holding at most
    ``max_bytes`` in all (every entry counts: the stream is unpacked through the ones not taken too).
    Returns the open TarFile and its chosen members, for ``extractall``; the caller closes it."""
    try:
        archive = tarfile.open(fileobj=tarball, mode="r:gz") if hasattr(tarball, "read") else \
            tarfile.open(tarball, mode="r:gz")
    except (OSError, tarfile.TarError, EOFError, zlib.error) as exc:
        raise BrokerParseError(f"the {what} is not a gzipped tarball ({exc})") from None
    chosen, size, seen = [], 0, 0
    try:
        for member in archive:
            seen += 1
            if seen > max_members:
                raise BrokerParseError(f"the {what} holds more than {max_members} entries: refused")
            size += member.size
            if size > max_bytes:
                raise over(what, max_bytes)
            if member.isfile() and accept(member.name):
                chosen.append(member)
    except (OSError, tarfile.TarError, EOFError, zlib.error) as exc:
        archive.close()
        raise BrokerParseError(f"the {what} is unreadable ({exc})") from None
    except BrokerParseError:
        archive.close()
        raise
    return archive, chosen
