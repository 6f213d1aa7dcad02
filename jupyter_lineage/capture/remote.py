"""URL readers and writers beyond ``urllib``: HTTP clients and fsspec's remote filesystems.

Installed like the reader registry's wrappers (``readers``): the moment their library is
imported, even lazily inside a call, and removed on unload. Not registry specs: a response or an
open file is followed past the call (a body read to its end, a write's new version). A wrapper that meets a changed library API gives one
warning naming the library; the cell runs on and nothing else is lost.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from . import child, http, remotefs
from .accesses import Accesses
from .readers.install import _PostImportHook

Installer = Callable[[Any, Accesses, http.Installed], None]
INSTALLERS: dict[str, Installer] = {
    "requests": http.install_requests,
    "httpx": http.install_httpx,
    "fsspec": remotefs.install,
    "fsspec.asyn": remotefs.install_async,
    "joblib": child.install_joblib,
}


class RemoteWrappers:
    def __init__(self, accesses: Accesses, warn: Callable[[str, str], None]) -> None:
        self.accesses = accesses
        self.warn = warn
        self.waiting = set(INSTALLERS)
        self.installed: http.Installed = []
        self.hook = _PostImportHook(set(self.waiting), self.poll)
        sys.meta_path.insert(0, self.hook)

    def poll(self) -> None:
        if not self.waiting:
            return
        for name in [n for n in self.waiting if n in sys.modules]:
            self.waiting.discard(name)
            try:
                INSTALLERS[name](sys.modules[name], self.accesses, self.installed)
            except Exception as exc:
                self.warn(
                    f"wrap-{name}",
                    f"{name} is not tracked: its API is not the one expected ({exc!r}).",
                )

    def remove(self) -> None:
        if self.hook in sys.meta_path:
            sys.meta_path.remove(self.hook)
        for owner, attr, original in reversed(self.installed):
            setattr(owner, attr, original)
        self.installed.clear()
        self.waiting = set(INSTALLERS)
