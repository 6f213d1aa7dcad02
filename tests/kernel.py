"""A real IPython kernel driven through jupyter_client, as Jupyter frontends drive it."""

from __future__ import annotations

import os
import queue
import sys
from dataclasses import dataclass, field
from typing import Any

from jupyter_client.manager import KernelManager


@dataclass
class Reply:
    status: str
    stdout: str = ""
    stderr: str = ""
    error: dict[str, Any] | None = None
    results: list[Any] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


class Kernel:
    def __init__(self, cwd: str, env: dict[str, str] | None = None) -> None:
        kernel_env = {**os.environ, **(env or {})}
        kernel_env.pop("JPY_SESSION_NAME", None)
        try:
            self._start(cwd, kernel_env)
        except RuntimeError:  # "Kernel died before replying to kernel_info", "didn't respond"
            # Kernels started at once by the test workers can lose the race for the ports
            # jupyter_client chose ("Address already in use", papermill#511): fresh ones, once.
            self.kill()
            self._start(cwd, kernel_env)
        self._cell = 0

    def _start(self, cwd: str, env: dict[str, str]) -> None:
        self.km = KernelManager(kernel_name="python3")
        self.km.kernel_cmd = None  # type: ignore[attr-defined]
        self.km.start_kernel(cwd=cwd, env=env, extra_arguments=[])
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=60)

    def run(self, code: str, *, cell_id: str | None = None, timeout: float = 60) -> Reply:
        self._cell += 1
        msg = self.kc.session.msg(
            "execute_request",
            {
                "code": code,
                "silent": False,
                "store_history": True,
                "user_expressions": {},
                "allow_stdin": False,
                "stop_on_error": False,
            },
        )
        msg["metadata"]["cellId"] = cell_id or f"cell-{self._cell}"
        self.kc.shell_channel.send(msg)
        msg_id = msg["header"]["msg_id"]
        reply = Reply(status="?")
        while True:
            try:
                m = self.kc.get_iopub_msg(timeout=timeout)
            except queue.Empty:
                raise TimeoutError(f"no answer from the kernel for: {code[:80]}") from None
            if m["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = m["msg_type"], m["content"]
            if kind == "stream":
                if content["name"] == "stdout":
                    reply.stdout += content["text"]
                else:
                    reply.stderr += content["text"]
            elif kind == "error":
                reply.error = content
            elif kind in ("execute_result", "display_data"):
                reply.results.append(content["data"])
            elif kind == "status" and content["execution_state"] == "idle":
                break
        while True:
            # Skip replies to other requests: wait_for_ready() sends kernel_info_request again
            # every second the kernel takes to start, and only one of its replies is read there.
            shell = self.kc.get_shell_msg(timeout=timeout)
            if shell["parent_header"].get("msg_id") == msg_id:
                break
        reply.status = shell["content"]["status"]
        return reply

    def check(self, code: str, **kw: Any) -> Reply:
        reply = self.run(code, **kw)
        if not reply.ok:
            err = reply.error or {}
            raise AssertionError(
                f"cell failed: {code!r}\n{err.get('ename')}: {err.get('evalue')}\n{reply.stderr}"
            )
        return reply

    def shutdown(self) -> None:
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=False)

    def kill(self) -> None:
        if getattr(self, "kc", None) is not None:
            self.kc.stop_channels()
        if self.km.has_kernel:
            self.km.shutdown_kernel(now=True)  # killed, its files removed


PYTHON = sys.executable
