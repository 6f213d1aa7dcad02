"""A run's environment as files package managers read, and where distributions came from."""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import tomllib
import yaml

from jupyter_lineage.capture.environment import installed, origin
from jupyter_lineage.envfiles import render
from jupyter_lineage.errors import UsageError
from jupyter_lineage.pipeline.isolated import failed_requirements, find_python
from jupyter_lineage.store import Store, writes

from .conftest import lineage

COMMIT = "4f5e6d7c8b9a4f5e6d7c8b9a4f5e6d7c8b9a4f5e"
DIGEST = "a" * 64


def _dist(site: Path, name: str, version: str, direct_url: dict[str, Any] | None) -> Path:
    info = site / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    if direct_url is not None:
        (info / "direct_url.json").write_text(json.dumps(direct_url))
    return info


def test_origins_come_from_direct_url_json_without_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    vcs_url = "https://user:ghp_secret@github.com/me/fromgit.git?token=abc"
    _dist(
        site,
        "fromgit",
        "1.2",
        {
            "url": vcs_url,
            "vcs_info": {"vcs": "git", "commit_id": COMMIT, "requested_revision": "v1.2"},
        },
    )
    _dist(site, "Local_Lib", "0.3", {"url": "file:///home/me/lib", "dir_info": {"editable": True}})
    _dist(
        site,
        "fromurl",
        "2.0",
        {"url": "https://example.org/f-2.0.tar.gz", "archive_info": {"hashes": {"sha256": DIGEST}}},
    )
    _dist(site, "plain", "1.0", None)
    _dist(site, "broken", "1.0", None)
    (site / "broken-1.0.dist-info" / "direct_url.json").write_text("{not json")
    monkeypatch.syspath_prepend(str(site))

    versions, origins = installed()
    assert versions["local-lib"] == "0.3" and versions["plain"] == "1.0"
    assert origins["fromgit"] == {
        "kind": "vcs",
        "url": "https://github.com/me/fromgit.git?token=REDACTED",
        "vcs": "git",
        "commit": COMMIT,
        "requested_revision": "v1.2",
    }
    assert origins["local-lib"] == {
        "kind": "directory",
        "url": "file:///home/me/lib",
        "editable": True,
    }
    assert origins["fromurl"]["hashes"] == {"sha256": DIGEST}
    assert "plain" not in origins and "broken" not in origins
    assert "ghp_secret" not in json.dumps(origins)
    assert origin(metadata.PathDistribution(site / "plain-1.0.dist-info")) is None


ENVIRONMENT = {
    "python": "3.11.7",
    "implementation": "CPython",
    "system": "Linux",
    "machine": "x86_64",
    "packages": {
        "six": "1.16.0",
        "fromgit": "1.2",
        "local-lib": "0.3",
        "fromurl": "2.0",
        "nohash": "0.1",
    },
    "origins": {
        "fromgit": {
            "kind": "vcs",
            "url": "https://github.com/me/fromgit.git",
            "vcs": "git",
            "commit": COMMIT,
        },
        "local-lib": {"kind": "directory", "url": "file:///home/me/lib", "editable": True},
        "fromurl": {
            "kind": "archive",
            "url": "https://example.org/f-2.0.tar.gz",
            "hashes": {"sha256": DIGEST},
        },
        "nohash": {"kind": "archive", "url": "https://example.org/n-0.1.tar.gz"},
    },
}
RUN = {"id": "01a2-test-run", "notebook": "/p/train.ipynb", "started": "2026-01-01T00:00:00+00:00"}


def test_requirements_pin_everything_and_say_where_direct_references_come_from() -> None:
    text = render({**RUN, "environment": ENVIRONMENT}, "requirements")
    lines = text.splitlines()
    assert "# Python 3.11.7 (CPython) on Linux x86_64" in lines
    assert "six==1.16.0" in lines
    assert (
        f"fromgit @ git+https://github.com/me/fromgit.git@{COMMIT}  # fromgit 1.2, installed from git at {COMMIT[:12]}"
        in lines
    )
    assert "-e /home/me/lib  # local-lib 0.3, an editable install from a local folder" in lines
    assert (
        f"fromurl @ https://example.org/f-2.0.tar.gz#sha256={DIGEST}  # fromurl 2.0, installed from an archive URL"
        in lines
    )
    body = [x for x in lines if not x.startswith("#")]
    assert len(body) == len(ENVIRONMENT["packages"])


def test_pylock_follows_pep_751() -> None:
    lock = tomllib.loads(render({**RUN, "environment": ENVIRONMENT}, "pylock"))
    assert lock["lock-version"] == "1.0" and lock["created-by"] == "jupyter-lineage"
    assert lock["requires-python"] == "==3.11.7"
    assert lock["environments"] == ["sys_platform == 'linux' and platform_machine == 'x86_64'"]
    packages = {p["name"]: p for p in lock["packages"]}
    assert packages["six"] == {"name": "six", "version": "1.16.0"}
    # Source trees carry no version (the spec forbids one); the recorded one is tool data.
    git = packages["fromgit"]
    assert "version" not in git and git["vcs"] == {
        "type": "git",
        "url": "https://github.com/me/fromgit.git",
        "commit-id": COMMIT,
    }
    assert git["tool"]["jupyter-lineage"]["recorded-version"] == "1.2"
    local = packages["local-lib"]
    assert "version" not in local and local["directory"] == {
        "path": "/home/me/lib",
        "editable": True,
    }
    assert packages["fromurl"]["archive"] == {
        "url": "https://example.org/f-2.0.tar.gz",
        "hashes": {"sha256": DIGEST},
    }
    # An archive table requires hashes: without them the URL stays tool data only.
    assert "archive" not in packages["nohash"]
    assert packages["nohash"]["tool"]["jupyter-lineage"]["archive-url"].endswith("n-0.1.tar.gz")
    for package in lock["packages"]:
        sources = {"vcs", "directory", "archive", "sdist", "wheels"} & set(package)
        assert len(sources) <= 1


def test_conda_pins_python_and_lists_packages_under_pip() -> None:
    env = yaml.safe_load(render({**RUN, "environment": ENVIRONMENT}, "conda"))
    assert env["dependencies"][0] == "python=3.11.7" and "pip" in env["dependencies"]
    pip = env["dependencies"][-1]["pip"]
    assert "six==1.16.0" in pip and "-e /home/me/lib" in pip and len(pip) == 5


def test_json_lists_each_package_with_its_requirement_and_origin() -> None:
    data = json.loads(render({**RUN, "environment": ENVIRONMENT}, "json"))
    assert data["python"] == "3.11.7"
    by_name = {p["name"]: p for p in data["packages"]}
    assert by_name["six"] == {
        "name": "six",
        "version": "1.16.0",
        "requirement": "six==1.16.0",
        "origin": None,
    }
    assert by_name["local-lib"]["origin"]["editable"] is True


def test_env_command_writes_the_file_and_refuses_what_it_cannot(
    project: Path, db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Store(db) as store:
        with_env = writes.begin_run(store, kind="script")
        writes.set_run_environment(store, with_env, 0, ENVIRONMENT)
        without = writes.begin_run(store, kind="script")
    out = project / "requirements.txt"
    proc = lineage("env", with_env, "--output", str(out))
    assert "wrote" in proc.stdout
    assert "six==1.16.0" in out.read_text().splitlines()
    printed = lineage("env", with_env, "--format", "pylock").stdout
    assert tomllib.loads(printed)["lock-version"] == "1.0"
    data = json.loads(lineage("env", with_env, "--format", "conda", "--json").stdout)
    assert data["run"] == with_env and data["format"] == "conda"
    assert "python=3.11.7" in yaml.safe_load(data["text"])["dependencies"]
    for args, says in (
        (["env", without, "--output", str(project / "x.txt")], "has no recorded packages"),
        (["env", "ffffffff"], "No run matches"),
        (["env", with_env, "--format", "pipfile"], "Invalid value for '--format'"),
    ):
        proc = lineage(*args, check=False)
        assert proc.returncode == 2 and says in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    assert not (project / "x.txt").exists()
    with pytest.raises(UsageError, match="Unknown environment format"):
        render({**RUN, "environment": ENVIRONMENT}, "pipfile")


def test_installer_errors_name_the_requirement_as_given() -> None:
    lines = ["six==1.16.0", "lineageprobe==3.0", "-e /work/src", "ipykernel"]
    pip = (
        "Collecting six==1.16.0\n  Using cached six-1.16.0-py2.py3-none-any.whl\n"
        "ERROR: Could not find a version that satisfies the requirement lineageprobe==3.0 "
        "(from versions: 1.0, 2.0)\nERROR: No matching distribution found for lineageprobe==3.0\n"
    )
    uv = (
        "  \u00d7 No solution found when resolving dependencies:\n  ╰─▶ Because there is no version "
        "of lineageprobe==3.0 and you require lineageprobe==3.0, we can conclude that your "
        "requirements are unsatisfiable.\n"
    )
    assert failed_requirements(pip, lines) == ["lineageprobe==3.0"]
    assert failed_requirements(uv, lines) == ["lineageprobe==3.0"]


def test_a_python_that_is_not_there_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match=r"No Python 2\.1 found"):
        find_python("3.11.7", "2.1", None)
    with pytest.raises(UsageError, match="--python must be a version"):
        find_python("3.11.7", "latest", None)
