"""Checks on values that come from users — CLI options, REST parameters, Python API arguments.

One place, one wording: a value out of range or a path the filesystem cannot take is a
:class:`UsageError` where it enters, never an ``OverflowError`` from SQLite or an ``OSError``
deep inside.
"""

from __future__ import annotations

import os
import re

from .errors import UsageError

SQLITE_INT_MAX = 2**63 - 1  # the largest whole number SQLite stores as INTEGER
NAME_MAX = 255  # bytes in one file or folder name (ext4, xfs, tmpfs, APFS)
PATH_MAX = 4096  # bytes in a whole path (Linux)


def whole_number(name: str, value: str | int, low: int = 0, high: int = SQLITE_INT_MAX) -> int:
    """``value`` as an int in ``low..high``; the message names the option and the range."""
    if isinstance(value, bool):
        raise UsageError(f"{name} must be a whole number, not {value}.")
    if isinstance(value, str):
        text = value.strip()
        if len(text) > 40 or not text.lstrip("+-").isdigit():
            raise UsageError(f"{name} must be a whole number between {low} and {high}.")
        value = int(text)
    if not low <= value <= high:
        shown = str(value) if len(str(value)) <= 20 else f"a {len(str(abs(value)))}-digit number"
        raise UsageError(f"{name} must be between {low} and {high}, not {shown}.")
    return value


def check_path(name: str, path: str | os.PathLike[str]) -> str:
    """A path the filesystem can hold: no NUL byte, no name over 255 bytes, not over 4096 bytes.

    Checked before anything is opened, so an impossible path is one clear line, not
    ``OSError: File name too long`` from wherever it was first used.
    """
    text = os.fspath(path)
    if "\x00" in text:
        raise UsageError(f"{name}: a path cannot contain a NUL character.")
    try:
        raw = os.fsencode(text)
    except UnicodeError:
        raise UsageError(f"{name}: the path is not valid text.") from None
    longest = max((len(part) for part in raw.split(b"/")), default=0)
    if longest > NAME_MAX:
        raise UsageError(
            f"{name}: a file or folder name in that path is {longest} bytes long; the limit is "
            f"{NAME_MAX}. Use a shorter name."
        )
    if len(raw) > PATH_MAX:
        raise UsageError(
            f"{name}: the path is {len(raw)} bytes long; the limit is {PATH_MAX}. Use a "
            "shorter path."
        )
    return text


_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_ID_LIKE = re.compile(r"^[0-9a-fA-F-]{4,36}$")


def run_name(name: str) -> str:
    """A name a user chose, or a UsageError that says what a name may be."""
    name = name.strip()
    if not _NAME.match(name) or _ID_LIKE.match(name):
        raise UsageError(
            f"'{name}' cannot be a run name: use 1-64 letters, digits, '.', '_' or '-' (starting "
            "with a letter or digit, and not all hex digits, which read as a run id)."
        )
    return name


def run_note(note: str | None) -> str | None:
    if note is not None and len(note) > 2000:
        raise UsageError("A run note holds at most 2000 characters.")
    return note
