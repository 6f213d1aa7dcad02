"""Kept for the capture modules' imports while capture/ is being split (issue 10); the URL
cleaning itself lives in :mod:`jupyter_lineage.urls`, a leaf every layer can import."""

from ..urls import clean_remote, clean_url, scrub_text

__all__ = ["clean_remote", "clean_url", "scrub_text"]
