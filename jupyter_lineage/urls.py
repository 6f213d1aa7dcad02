"""URLs as artifacts: credentials never reach the database. A leaf module: capture, the store's
callers and the pipelines all clean URLs the same way.

:func:`clean_url` drops ``user:password@`` and redacts the values of parameters named like
credentials — in the query, the fragment (``#access_token=…``) and ``;name=value`` path
parameters. Names are matched case-insensitively; :func:`scrub_text` cleans every URL in a text.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

REDACTED = "REDACTED"
# Parameter and variable names that hold credentials (matched anywhere in the name).
SECRET_NAME = re.compile(
    r"token|secret|passw|pwd|key|sig|credential|auth|session|sess_|sessid|sas|jwt|bearer"
    r"|cookie|otp|private|x-amz-|x-goog-|cert|salt|nonce|hmac",
    re.I,
)
# ...and short names that do so only as a whole (OAuth's ``code``, ``sid``).
_SECRET_EXACT = {"code", "sid", "pin", "pass", "pw"}


def is_secret_name(name: str) -> bool:
    return bool(SECRET_NAME.search(name)) or name.strip().lower() in _SECRET_EXACT


def _clean_pairs(text: str) -> str:
    """``a=1&token=x`` with the credential values redacted; other text as it is."""
    if "=" not in text:
        return text
    pairs = parse_qsl(text, keep_blank_values=True)
    if not pairs:
        return text
    return urlencode([(k, REDACTED if is_secret_name(k) else v) for k, v in pairs], safe="/:")


def _clean_fragment(fragment: str) -> str:
    """``#access_token=…&state=…`` (OAuth's implicit flow) or ``#/route?token=…``."""
    head, sep, tail = fragment.partition("?")
    if sep:
        return f"{head}?{_clean_pairs(tail)}"
    return _clean_pairs(fragment) if "=" in head else fragment


_PATH_PARAM = re.compile(r";([^;=/?#]*)=([^;/?#]*)")


def clean_url(url: str) -> str:
    """Drop user:password@ and the values of parameters that look like credentials."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return re.sub(r"//[^/@]*@", "//", url.split("#", 1)[0])
    netloc = parts.netloc.rsplit("@", 1)[-1]
    path = _PATH_PARAM.sub(
        lambda m: f";{m.group(1)}={REDACTED if is_secret_name(m.group(1)) else m.group(2)}",
        parts.path,
    )
    query = _clean_pairs(parts.query) if parts.query else ""
    fragment = _clean_fragment(parts.fragment) if parts.fragment else ""
    return urlunsplit((parts.scheme.lower(), netloc, path, query, fragment))


# One name per remote store, whichever alias the filesystem or the user spelled it with (adlfs
# answers to az/abfs/abfss, s3fs to s3/s3a, gcsfs to gs/gcs): one artifact, one way to trace it.
_SCHEME_ALIASES = {"abfs": "az", "abfss": "az", "s3a": "s3", "gcs": "gs"}


# Spark/Hadoop spell an ADLS object ``abfss://CONTAINER@ACCOUNT.dfs.core.windows.net/path``:
# the part before ``@`` is the container, not a user (adlfs reads it so too).
_ADLS_NETLOC = re.compile(
    r"^([a-z0-9][a-z0-9-]{2,62})@[^/@:]+\.(?:dfs|blob)\.core\.windows\.net$", re.I
)


def canonical_url(url: str) -> str:
    """``abfs://c/x`` is ``az://c/x``: the scheme an object store is recorded under. Apply it
    before :func:`clean_url`, which would take a Spark-style container for a user name."""
    scheme, sep, rest = url.partition("://")
    alias = _SCHEME_ALIASES.get(scheme.lower()) if sep else None
    if not alias:
        return url
    if alias == "az":
        netloc, slash, path = rest.partition("/")
        spark = _ADLS_NETLOC.match(netloc)
        if spark:
            rest = spark.group(1).lower() + slash + path
    return f"{alias}://{rest}"


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
