"""``jupyter lineage …`` (also ``jupyter-lineage``): a thin shell over :mod:`jupyter_lineage.api`.

Every command has ``--json`` (the same shapes the Python API returns; docs/cli.md) and a rich
human view. Errors are one line on stderr with exit code 2.
"""

from __future__ import annotations

import os
import sys

import click

from ..capture import child
from ..errors import LineageError
from . import compare, dag, gathering, maintenance, models, pipelines, queries, setup_cmds  # noqa: F401  (each registers its commands on `cli`)
from .base import cli
from .help import apply
from .pipelines import expand_sweep_values

apply(cli)

__all__ = ["cli", "main", "run"]


def main(argv: list[str] | None = None) -> int:
    """Entry point: LineageError and usage errors become one line on stderr, exit code 2."""
    args = list(sys.argv[1:] if argv is None else argv)
    if argv is None:
        child.disown()  # started from a tracked cell: the tool's own files are not the cell's
    # jsonschema (via nbformat) imports rfc3987_syntax when it is installed, and that compiles
    # lark grammars at import: 0.7 s to 3 s depending on heap layout, paid by every `run`. None
    # of our commands validates IRIs, so this process declines that optional import.
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
    try:
        code = cli.main(
            args=expand_sweep_values(args), prog_name="jupyter lineage", standalone_mode=False
        )
        if isinstance(code, int):  # click returns a command's Exit code in this mode
            return code
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 130
    except click.ClickException as exc:
        hint = ""
        ctx = getattr(exc, "ctx", None)
        if ctx is not None:
            hint = f" (see `{ctx.command_path} --help`)"
        click.echo(f"error: {exc.format_message()}{hint}", err=True)
        return 2
    except LineageError as exc:
        click.echo(f"error: {exc}", err=True)
        return exc.exit_code
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        return 130
    except OSError as exc:  # the filesystem said no (a path, a permission, a full disk)
        where = f": {exc.filename}" if exc.filename else ""
        click.echo(
            f"error: {exc.strerror or exc}{where}. Check the path, its permissions and the "
            "free space, then try again.",
            err=True,
        )
        return 2
    except Exception as exc:  # a bug of ours: still one line, the traceback on request
        if os.environ.get("JUPYTER_LINEAGE_DEBUG"):
            raise
        click.echo(
            f"error: unexpected {type(exc).__name__}: {exc} (a bug in jupyter-lineage; "
            "JUPYTER_LINEAGE_DEBUG=1 shows the traceback)",
            err=True,
        )
        return 2
    return 0


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
