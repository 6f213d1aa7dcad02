"""URLs as artifacts: credentials never reach the database. A leaf module: capture, the store's
callers and the pipelines all clean URLs the same way."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_SECRET_PARAM = re.compile(
    r"(token|secret|passw|pwd|key|sig|signature|credential|auth|session|sas|x-amz-)", re.I
)


def clean_url(url: str) -> str:
    """Drop user:password@ and the values of query parameters that look like credentials."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return re.sub(r"//[^/@]*@", "//", url)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode(
            [(k, "REDACTED" if _SECRET_PARAM.search(k) else v) for k, v in pairs], safe="/:"
        )
    return urlunsplit((parts.scheme.lower(), netloc, parts.path, query, parts.fragment))


def clean_remote(remote: str) -> str:
    """Git remotes: URLs lose credentials; scp-like ``user@host:path`` keeps only the host."""
    if "://" in remote:
        return clean_url(remote)
    return re.sub(r"^[^@/]+@", "", remote)


_URL_IN_TEXT = re.compile(r"""[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'"<>()\[\]{}`]+""")


def scrub_text(text: str) -> str:
    """Cell code as stored: every URL in it loses its credentials (the rest is untouched)."""
    if "://" not in text:
        return text
    return _URL_IN_TEXT.sub(lambda m: clean_url(m.group(0)), text)
