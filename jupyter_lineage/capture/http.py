"""``requests`` and ``httpx``: a GET a cell makes is a URL read, like ``urllib``'s.

Recorded by address with credentials removed (``urls.clean_url``), with the response's version
identity as its headers state it (ETag, Last-Modified, Content-Length) and, when the cell has the
whole body, its BLAKE3 hash — computed from the bytes the client already holds or as the stream
passes by, never by fetching anything again. A streamed body the cell stops reading halfway is
recorded by its version identity alone.

An upload (POST, PUT or PATCH answered 2xx) is a URL *written*: by address, credentials removed,
with the version the server states (ETag, Last-Modified) and the hash of what was sent — the
bytes the client holds, or, for a file sent whole as the body (``data=open(f, "rb")``), that
file's own hash, so ``trace`` of the URL finds the file (the cell read it too). A multipart form
(``files=``) is recorded without a hash: its body is not any one file's content.
"""

from __future__ import annotations

import functools
import os
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import Any

import blake3

from ..hashing import PREFIX
from ..urls import clean_url
from .accesses import Accesses, Remote

# (owner, attribute, original): what an installer replaced, so that unload puts it back.
Installed = list[tuple[Any, str, Any]]
_VERSION_HEADERS = ("ETag", "Last-Modified", "Content-Length")


def version_of(headers: Mapping[str, Any]) -> str | None:
    """``ETag="…"; Last-Modified=…; Content-Length=…``: what the server says this version is."""
    parts = []
    for name in _VERSION_HEADERS:
        value = headers.get(name)
        if value:
            parts.append(f"{name}={str(value).strip()}")
    return "; ".join(parts) or None


def _content_length(headers: Mapping[str, Any]) -> int | None:
    try:
        return int(headers.get("Content-Length") or "")
    except ValueError:
        return None


class BodyHash:
    """The hash of a body read in pieces; set on the record once the last piece went by."""

    def __init__(self, remote: Remote) -> None:
        self.remote = remote
        self.hasher = blake3.blake3()
        self.size = 0

    def update(self, chunk: bytes) -> None:
        if chunk:
            self.hasher.update(chunk)
            self.size += len(chunk)

    def done(self) -> None:
        self.remote.digest = PREFIX + self.hasher.hexdigest()
        self.remote.size = self.size


_UPLOADS = frozenset({"POST", "PUT", "PATCH"})


def _note(
    accesses: Accesses, method: str, url: Any, status: int, headers: Mapping[str, Any]
) -> Remote | None:
    if method.upper() != "GET" or not 200 <= status < 300 or not accesses.active:
        return None
    uri = clean_url(str(url))
    if not uri.startswith(("http://", "https://")):
        return None
    remote = accesses.note_remote(uri, "read")
    if remote is not None:
        remote.version = version_of(headers)
        remote.size = _content_length(headers)
    return remote


def _uploaded(
    accesses: Accesses,
    method: str,
    url: Any,
    status: int,
    response_headers: Mapping[str, Any],
    request_headers: Mapping[str, Any],
    body: Any,
) -> None:
    """A POST/PUT/PATCH answered 2xx: the URL written, with the hash of what was sent."""
    if method.upper() not in _UPLOADS or not 200 <= status < 300 or not accesses.active:
        return
    uri = clean_url(str(url))
    if not uri.startswith(("http://", "https://")):
        return
    remote = accesses.note_remote(uri, "write")
    if remote is None:
        return
    # the server's word on the version it now holds; Content-Length is the reply's, not ours
    version = "; ".join(
        f"{name}={str(response_headers[name]).strip()}"
        for name in ("ETag", "Last-Modified")
        if response_headers.get(name)
    )
    remote.version = version or None
    remote.digest = remote.size = remote.finish = None  # uploaded again: the last one counts
    sent = _content_length(request_headers)
    content_type = str(request_headers.get("Content-Type") or "")
    if content_type.startswith("multipart/"):
        remote.size = sent
        return  # a form: not any one file's content
    if isinstance(body, str):
        body = body.encode("utf-8")
    if isinstance(body, bytes | bytearray | memoryview):
        _whole(remote, bytes(body))
        return
    path = _file_of(body)
    if path is not None:
        remote.finish = lambda record: _file_sent(accesses, record, path, sent)


def note_sent(accesses: Accesses, uri: str, body: Any) -> None:
    """``urllib``'s upload (its audit event, before the request goes out): the URL written,
    with the hash of the bytes or file sent; like its reads, no version."""
    remote = accesses.note_remote(uri, "write")
    if remote is None:
        return
    if isinstance(body, bytes | bytearray | memoryview):
        _whole(remote, bytes(body))
        return
    path = _file_of(body)
    if path is not None:
        remote.finish = lambda record: _file_sent(accesses, record, path, None)


def _file_of(body: Any) -> str | None:
    name = getattr(body, "name", None)
    if not hasattr(body, "read") or not isinstance(name, str) or not os.path.isfile(name):
        return None
    return os.path.abspath(name)


def _file_sent(accesses: Accesses, remote: Remote, path: str, sent: int | None) -> None:
    """At the cell's end: a file sent whole has its own hash (the audit hook hashed it when the
    client opened it, so this is a lookup)."""
    st = os.stat(path)
    remote.size = sent if sent is not None else st.st_size
    if sent is None or sent == st.st_size:
        remote.digest, _ = accesses.hashes.digest(path, st)


def _whole(remote: Remote, body: bytes) -> None:
    remote.digest = PREFIX + blake3.blake3(body).hexdigest()
    remote.size = len(body)


def _replace(owner: Any, attr: str, wrapper: Callable[..., Any], installed: Installed) -> None:
    original = getattr(owner, attr)
    if hasattr(original, "__jupyter_lineage_original__"):
        return
    functools.update_wrapper(wrapper, original)
    wrapper.__jupyter_lineage_original__ = original  # type: ignore[attr-defined]
    setattr(owner, attr, wrapper)
    installed.append((owner, attr, original))


# -- requests -------------------------------------------------------------------------------------
def install_requests(module: Any, accesses: Accesses, installed: Installed) -> None:
    """``Session.send``: every requests call (``requests.get``, a session's) goes through it."""
    session = module.sessions.Session
    original = session.send

    def send(self: Any, request: Any, **kwargs: Any) -> Any:
        response = original(self, request, **kwargs)
        if accesses.active:
            try:
                _requests_response(accesses, request, response)
            except Exception as exc:  # never the user's request failing because of us
                accesses.errors.append(exc)
        return response

    _replace(session, "send", send, installed)


def _requests_response(accesses: Accesses, request: Any, response: Any) -> None:
    if (request.method or "").upper() in _UPLOADS:
        _uploaded(
            accesses,
            request.method,
            response.url,
            response.status_code,
            response.headers,
            request.headers,
            request.body,
        )
        return
    remote = _note(
        accesses, request.method or "", response.url, response.status_code, response.headers
    )
    if remote is None:
        return
    content = response.__dict__.get("_content")
    if isinstance(content, bytes):  # not streamed: requests read the whole body already
        _whole(remote, content)
        return
    raw = response.raw
    if raw is None or not hasattr(raw, "read"):
        return
    body = BodyHash(remote)
    read = raw.read

    def hashed_read(amt: int | None = None, *args: Any, **kwargs: Any) -> Any:
        data = read(amt, *args, **kwargs)
        body.update(data)
        if not data or amt is None:
            body.done()
        return data

    raw.read = hashed_read  # the instance's own: urllib3's stream() and read() both call it
    read_chunked = getattr(raw, "read_chunked", None)
    if read_chunked is not None:

        def hashed_chunks(*args: Any, **kwargs: Any) -> Iterator[bytes]:
            for chunk in read_chunked(*args, **kwargs):
                body.update(chunk)
                yield chunk
            body.done()

        raw.read_chunked = hashed_chunks

    def finish(record: Remote) -> None:
        # urllib3's stream() stops once the connection is drained, without an empty read.
        if record.digest is None and getattr(raw, "length_remaining", None) == 0:
            body.done()

    remote.finish = finish


# -- httpx ----------------------------------------------------------------------------------------
def install_httpx(module: Any, accesses: Accesses, installed: Installed) -> None:
    """``Client.send`` and ``AsyncClient.send``: ``httpx.get``, clients and ``client.stream``."""
    client, async_client = module.Client, module.AsyncClient
    original = client.send
    original_async = async_client.send

    def send(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        response = original(self, request, *args, **kwargs)
        if accesses.active:
            try:
                _httpx_response(accesses, response)
            except Exception as exc:
                accesses.errors.append(exc)
        return response

    async def send_async(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        response = await original_async(self, request, *args, **kwargs)
        if accesses.active:
            try:
                _httpx_response(accesses, response)
            except Exception as exc:
                accesses.errors.append(exc)
        return response

    _replace(client, "send", send, installed)
    _replace(async_client, "send", send_async, installed)


def _httpx_response(accesses: Accesses, response: Any) -> None:
    request = response.request
    if request.method.upper() in _UPLOADS:
        content = request.__dict__.get("_content")
        if not isinstance(content, bytes):  # streamed: a file object's chunks, or a form
            content = getattr(request.stream, "_stream", None)
        _uploaded(
            accesses,
            request.method,
            request.url,
            response.status_code,
            response.headers,
            request.headers,
            content,
        )
        return
    remote = _note(accesses, request.method, request.url, response.status_code, response.headers)
    if remote is None:
        return
    content = response.__dict__.get("_content")
    if isinstance(content, bytes):
        _whole(remote, content)
        return
    body = BodyHash(remote)
    # read(), iter_text() and iter_lines() all go through iter_bytes (aiter_bytes): the instance's
    # own wrapper sees every decoded byte once.
    iter_bytes, aiter_bytes = response.iter_bytes, response.aiter_bytes

    def hashed_bytes(*args: Any, **kwargs: Any) -> Iterator[bytes]:
        for chunk in iter_bytes(*args, **kwargs):
            body.update(chunk)
            yield chunk
        body.done()

    async def hashed_abytes(*args: Any, **kwargs: Any) -> AsyncIterator[bytes]:
        async for chunk in aiter_bytes(*args, **kwargs):
            body.update(chunk)
            yield chunk
        body.done()

    response.iter_bytes = hashed_bytes
    response.aiter_bytes = hashed_abytes
