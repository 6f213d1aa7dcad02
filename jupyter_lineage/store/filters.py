"""``runs --where``: one condition on a run's latest metric or a parameter, as bound SQL."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from ..errors import UsageError
from ..inputs import SQLITE_INT_MAX

_CONDITION = re.compile(r"^\s*(params?\.)?([A-Za-z_][\w.\-]*?)\s*(>=|<=|!=|==|=|>|<)\s*(.+?)\s*$")
_WHERE_HELP = (
    "takes NAME OP VALUE: a metric ('auc > 0.8') or a parameter ('params.C = 0.5'), "
    "with OP one of = != < <= > >="
)
_QUOTED = re.compile(r"""^(['"]).*\1$""", re.S)
# Digits with a comma (0,8 or 1,000.5): a number written for people, not for a comparison.
_COMMA_NUMBER = re.compile(r"^[+-]?[\d.]*\d[\d.]*(,[\d.]*)+$|^[+-]?,\d")


def _value(text: str, raw: str) -> tuple[Any, bool]:
    """The value to compare with, and whether it is a number."""
    if _QUOTED.match(raw):
        return raw[1:-1], False
    try:
        value = json.loads(raw)
    except ValueError:
        if _COMMA_NUMBER.match(raw):
            raise UsageError(
                f"--where {text!r}: {raw} is not a number; write decimals with a point and no "
                "thousands separator (0.8, 1000)."
            ) from None
        return raw, False
    if isinstance(value, dict | list):
        raise UsageError(f"--where {text!r}: compare with a number or a string.")
    if isinstance(value, bool) or value is None:
        return value, False
    if isinstance(value, int) and not -SQLITE_INT_MAX - 1 <= value <= SQLITE_INT_MAX:
        raise UsageError(
            f"--where {text!r}: {raw} is beyond the whole numbers the store holds (±9.2e18); "
            f"write it as a decimal ({float(value):.6g})."
        )
    if isinstance(value, float) and math.isnan(value):
        raise UsageError(f"--where {text!r}: NaN equals nothing; compare with a number.")
    return value, isinstance(value, int | float)


def condition(text: str) -> tuple[str, list[Any]]:
    """One ``--where`` condition as SQL over the latest metric value or the parameter's value.

    A metric is a number, so it is compared with a number; ``<``, ``<=``, ``>``, ``>=`` compare
    numbers too, unless the value is quoted (``params.name > 'b'``). Anything else is an
    error, never a silent comparison of text.
    """
    m = _CONDITION.match(text)
    if not m:
        raise UsageError(f"--where {text!r}: --where {_WHERE_HELP}.")
    is_param, name, op, raw = m.groups()
    op = "=" if op == "==" else op
    value, numeric = _value(text, raw)
    quoted = bool(_QUOTED.match(raw))
    if not numeric and (not is_param or (op in ("<", "<=", ">", ">=") and not quoted)):
        what = "a metric" if not is_param else f"{op}"
        raise UsageError(
            f"--where {text!r}: {what} compares numbers, and {raw} is not one. Write a number "
            "(0.8)" + (", or quote text to compare it as text ('abc')." if is_param else ".")
        )
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
