"""The git state of the notebook's repository: commit, branch, dirty diff, clean remote."""

from __future__ import annotations

import os
from typing import Any

from ..urls import clean_remote

MAX_DIFF = 1_000_000


def _maybe_in_repository(folder: str) -> bool:
    """Whether GitPython could find a repository from ``folder`` (a ``.git`` in it or above,
    a bare repository, or ``GIT_DIR`` set): a few stats, so a notebook outside git does not
    pay GitPython's import (~0.2 s of CPU in every pipeline kernel)."""
    if os.environ.get("GIT_DIR"):
        return True
    here = os.path.abspath(folder)
    while True:
        if os.path.exists(os.path.join(here, ".git")) or (
            os.path.isfile(os.path.join(here, "HEAD"))
            and os.path.isdir(os.path.join(here, "objects"))
        ):
            return True
        parent = os.path.dirname(here)
        if parent == here:
            return False
        here = parent


def capture_git(folder: str) -> dict[str, Any] | None:
    """None outside a repository (a valid state); a repository git fails on is ``{"root",
    "error"}`` (stored as ``git.error``), never a clean one with no commit. Never raises."""
    if not _maybe_in_repository(folder):
        return None
    try:
        import git
    except ImportError as exc:
        return {"root": os.path.abspath(folder), "error": f"GitPython cannot be imported: {exc}"}
    try:
        repo = git.Repo(folder, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None
    except Exception as exc:
        return {"root": os.path.abspath(folder), "error": f"{type(exc).__name__}: {exc}"}
    with repo:
        try:
            state: dict[str, Any] = {"root": repo.working_tree_dir}
            try:
                state["commit"] = repo.head.commit.hexsha
            except ValueError:
                state["commit"] = None  # no commits yet
            try:
                state["branch"] = None if repo.head.is_detached else repo.active_branch.name
            except (TypeError, ValueError):
                state["branch"] = None
            diff = ""
            if state["commit"]:
                diff = repo.git.diff("HEAD", "--no-color", "--no-ext-diff")
            untracked = repo.untracked_files
            state["dirty"] = bool(diff) or bool(untracked)
            if len(diff) > MAX_DIFF:
                diff = diff[:MAX_DIFF] + "\n[… diff truncated by jupyter-lineage]\n"
            state["diff"] = diff
            state["untracked"] = sorted(untracked)[:200]
            remote = None
            if repo.remotes:
                names = [r.name for r in repo.remotes]
                chosen = "origin" if "origin" in names else names[0]
                urls = list(repo.remote(chosen).urls)
                remote = clean_remote(urls[0]) if urls else None
            state["remote"] = remote
            return state
        except Exception as exc:  # a broken repo is reported, not fatal
            return {"root": os.path.abspath(folder), "error": f"{type(exc).__name__}: {exc}"}
