"""The process pools of ``sweep`` and ``repro --jobs``: workers that end when their parent does.

A pool's workers wait on a queue the parent feeds; when the parent is killed (SIGKILL, the OOM
killer) nothing tells them, so they would run their notebook to the end and then wait forever.
Each worker watches its parent instead and exits once it is gone; the kernel it started follows
(ipykernel exits when its own parent does).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor

CHECK_SECONDS = 0.5


def pool(workers: int) -> ProcessPoolExecutor:
    """Spawned workers (no forked zmq or SQLite state) that watch this process."""
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=watch_parent,
        initargs=(os.getpid(),),
    )


def watch_parent(parent: int) -> None:
    threading.Thread(
        target=_exit_when_orphaned, args=(parent,), daemon=True, name="jupyter-lineage-parent"
    ).start()


def _exit_when_orphaned(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(CHECK_SECONDS)
    # the parent is gone: its answer can no longer be delivered. The run this worker records
    # stays as the store has it (a kernel's journal is ingested by the next process).
    os._exit(1)
