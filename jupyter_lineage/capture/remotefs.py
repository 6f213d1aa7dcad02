"""fsspec's remote filesystems (``s3://``, ``gs://``, ``az://``, ``http(s)://``, ``hf://``, …).

Every ``open`` of a remote file — ``fsspec.open``, ``fs.open``, and pandas, pyarrow, polars or
xarray given a remote URL — goes through ``AbstractFileSystem.open``: the object is recorded by
its URL (credentials removed) with its version identity taken from the filesystem's own ``info``
(S3's VersionId and ETag, GCS's generation, Azure's etag, the Hub's blob id, HTTP's ETag and
Last-Modified, and the size and modification time), which the filesystem has usually fetched
already to open the file. Nothing is downloaded a second time; a content hash is not computed
(a remote file is read in ranges, rarely whole). A written object's new version is asked of the
filesystem when the cell ends.

Local and in-process filesystems (``file``, ``memory``, archives, caches) are left alone: the
audit hook sees the local files they touch.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any

import blake3

from ..hashing import PREFIX
from ..urls import canonical_url, clean_url
from .accesses import Accesses, Remote
from .http import Installed, _replace

# Not remote: their files are local (seen by the audit hook) or live in this process.
LOCAL = frozenset(
    {
        "file",
        "local",
        "memory",
        "dir",
        "zip",
        "tar",
        "libarchive",
        "reference",
        "cached",
        "simplecache",
        "filecache",
        "blockcache",
        "asynclocal",
    }
)
# The filesystem's own words for a version, most specific first (S3, Azure, GCS, HF, HTTP, …).
_VERSION_KEYS = (
    ("VersionId", "VersionId"),
    ("version_id", "VersionId"),
    ("generation", "generation"),
    ("ETag", "ETag"),
    ("etag", "ETag"),
    ("md5Hash", "md5"),
    ("blob_id", "blob_id"),
    ("LastModified", "Last-Modified"),
    ("last_modified", "Last-Modified"),
    ("Last-Modified", "Last-Modified"),
    ("updated", "Last-Modified"),
    ("mtime", "Last-Modified"),
    ("size", "size"),
)


def version_of(info: Mapping[str, Any]) -> str | None:
    """``VersionId=…; ETag=…; Last-Modified=…; size=…`` from a filesystem's ``info``."""
    parts: dict[str, str] = {}
    for key, name in _VERSION_KEYS:
        value = info.get(key)
        if value is None or value == "" or name in parts:
            continue
        if isinstance(value, _dt.datetime):
            value = value.isoformat()
        parts[name] = str(value)
    lfs = info.get("lfs")
    if isinstance(lfs, Mapping) and lfs.get("sha256"):
        parts.setdefault("sha256", str(lfs["sha256"]))
    return "; ".join(f"{k}={v}" for k, v in parts.items()) or None


def _protocols(fs: Any) -> tuple[str, ...]:
    protocol = getattr(fs, "protocol", ())
    return (protocol,) if isinstance(protocol, str) else tuple(protocol)


def is_remote(fs: Any) -> bool:
    protocols = _protocols(fs)
    return bool(protocols) and not LOCAL.intersection(protocols)


def url_of(fs: Any, path: str) -> str:
    if "://" in path:
        return clean_url(canonical_url(path))
    return clean_url(canonical_url(fs.unstrip_protocol(path)))


def install(module: Any, accesses: Accesses, installed: Installed) -> None:
    base = module.spec.AbstractFileSystem
    original = base.open

    def open(self: Any, path: Any, mode: str = "rb", *args: Any, **kwargs: Any) -> Any:  # noqa: A001
        handle = original(self, path, mode, *args, **kwargs)
        if accesses.active and "b" in mode:  # text mode comes back here in binary
            try:
                _opened(accesses, self, handle, str(path), mode)
            except Exception as exc:
                accesses.errors.append(exc)
        return handle

    _replace(base, "open", open, installed)


# Whole-object transfers of async filesystems (s3fs, gcsfs, adlfs, HTTP): ``fs.cat``/``cat_file``,
# ``fs.get``, ``fs.put``, ``fs.pipe`` all end in these coroutines. name -> (role, remote argument).
_TRANSFERS = {
    "_cat_file": ("read", 0, "path"),
    "_get_file": ("read", 0, "rpath"),
    "_put_file": ("write", 1, "rpath"),
    "_pipe_file": ("write", 0, "path"),
}


def install_async(module: Any, accesses: Accesses, installed: Installed) -> None:
    """``fsspec.asyn``: an async filesystem makes its sync methods from its coroutines when it is
    created (``mirror_sync_methods``); its transfer coroutines are wrapped first, on the
    instance, so ``fs.get`` and ``fs.cat_file`` alike go through them."""
    original = module.mirror_sync_methods

    def mirror_sync_methods(obj: Any) -> Any:
        try:
            if is_remote(obj):
                for name, how in _TRANSFERS.items():
                    method = getattr(obj, name, None)
                    if method is not None and not hasattr(method, "__jupyter_lineage_original__"):
                        setattr(obj, name, _transfer(accesses, obj, method, *how))
        except Exception as exc:
            accesses.errors.append(exc)
        return original(obj)

    mirror_sync_methods.__jupyter_lineage_original__ = original  # type: ignore[attr-defined]
    module.mirror_sync_methods = mirror_sync_methods
    installed.append((module, "mirror_sync_methods", original))


def _transfer(accesses: Accesses, fs: Any, method: Any, role: str, index: int, keyword: str) -> Any:
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = await method(*args, **kwargs)
        if accesses.active:
            try:
                target = args[index] if len(args) > index else kwargs.get(keyword)
                whole = role == "read" and kwargs.get("start") is None and kwargs.get("end") is None
                await _transferred(accesses, fs, str(target), role, result if whole else None)
            except Exception as exc:  # never the user's transfer failing because of us
                accesses.errors.append(exc)
        return result

    wrapper.__jupyter_lineage_original__ = method  # type: ignore[attr-defined]
    return wrapper


async def _transferred(accesses: Accesses, fs: Any, path: str, role: str, body: Any) -> None:
    stripped = fs._strip_protocol(path)
    remote = accesses.note_remote(url_of(fs, stripped), role)
    if remote is None:
        return
    if isinstance(body, bytes):  # the cell holds the whole object: its hash, no new request
        remote.digest = PREFIX + blake3.blake3(body).hexdigest()
    if role == "write":
        fs.invalidate_cache(stripped)
    try:
        info = await fs._info(stripped)
    except Exception:
        return
    if isinstance(info, Mapping):
        _set_version(remote, info)


def _opened(accesses: Accesses, fs: Any, handle: Any, path: str, mode: str) -> None:
    if not is_remote(fs):
        return
    stripped = fs._strip_protocol(path)
    write = "r" not in mode or "+" in mode
    remote = accesses.note_remote(url_of(fs, stripped), "write" if write else "read")
    if remote is None:
        return
    if write:
        remote.finish = lambda record: _written(fs, stripped, record)
        return
    info = getattr(handle, "_details", None)
    if not isinstance(info, Mapping) or not _names_a_version(info):
        # A file object that knows only its size (fsspec's HTTPFile): ask for the metadata.
        info = _info(fs, stripped) or info
    if info:
        _set_version(remote, info)


def _names_a_version(info: Mapping[str, Any]) -> bool:
    return any(info.get(key) for key, name in _VERSION_KEYS if name != "size")


def _info(fs: Any, path: str) -> Mapping[str, Any] | None:
    try:
        info = fs.info(path)
    except Exception:
        return None
    return info if isinstance(info, Mapping) else None


def _set_version(remote: Remote, info: Mapping[str, Any]) -> None:
    remote.version = version_of(info)
    size = info.get("size")
    if isinstance(size, int):
        remote.size = size


def _written(fs: Any, path: str, remote: Remote) -> None:
    """At the cell's end: the version the write made (a metadata request, never a download)."""
    try:
        fs.invalidate_cache(path)
    except Exception:
        pass
    info = _info(fs, path)
    if info:
        _set_version(remote, info)
