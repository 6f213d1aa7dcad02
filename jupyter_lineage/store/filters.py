"""``runs --where``: one condition on a run's latest metric or a parameter, as bound SQL."""

from __future__ import annotations

import json
import re
from typing import Any

from ..errors import UsageError

_CONDITION = re.compile(r"^\s*(params?\.)?([A-Za-z_][\w.\-]*?)\s*(>=|<=|!=|==|=|>|<)\s*(.+?)\s*$")
_WHERE_HELP = (
    "takes NAME OP VALUE: a metric ('auc > 0.8') or a parameter ('params.C = 0.5'), "
    "with OP one of = != < <= > >="
)


def condition(text: str) -> tuple[str, list[Any]]:
    """One ``--where`` condition as SQL over the latest metric value or the parameter's value."""
    m = _CONDITION.match(text)
    if not m:
        raise UsageError(f"--where {text!r}: --where {_WHERE_HELP}.")
    is_param, name, op, raw = m.groups()
    op = "=" if op == "==" else op
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw.strip("'\"")
    if isinstance(value, dict | list):
        raise UsageError(f"--where {text!r}: compare with a number or a string.")
    if is_param:
        sql = (
            f"id IN (SELECT run_id FROM params WHERE name = ? AND json_extract(value, '$') {op} ?)"
        )
    else:
        sql = (
            "id IN (SELECT run_id FROM metrics m WHERE name = ? AND step = (SELECT MAX(step)"
            f" FROM metrics WHERE run_id = m.run_id AND name = m.name) AND value {op} ?)"
        )
    return sql, [name, value]
