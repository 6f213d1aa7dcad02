"""Ships the interpreter start-up hook (jupyter_lineage/children.pth) at site-packages' top."""

from __future__ import annotations

import os
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class CustomBuildHook(BuildHookInterface):  # type: ignore[misc]
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        source = os.path.join(self.root, "jupyter_lineage", "children.pth")
        key = "force_include_editable" if version == "editable" else "force_include"
        build_data.setdefault(key, {})[source] = "jupyter_lineage_children.pth"
