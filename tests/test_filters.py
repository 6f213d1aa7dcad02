"""Pure decisions of capture: URL cleaning, artifact kinds, noise. No kernel needed."""

from __future__ import annotations

import os
import sys

import pytest

from jupyter_lineage.capture.kinds import kind_of
from jupyter_lineage.capture.noise import NoiseFilter
from jupyter_lineage.urls import canonical_url, clean_remote, clean_url, scrub_text


@pytest.mark.parametrize(
    ("url", "clean"),
    [
        ("https://user:pw@host.example/a.csv", "https://host.example/a.csv"),
        (
            "https://host.example/a.csv?X-Amz-Signature=abc&part=1",
            "https://host.example/a.csv?X-Amz-Signature=REDACTED&part=1",
        ),
        (
            "https://host.example/a.csv?api_key=k&access_token=t&sig=s",
            "https://host.example/a.csv?api_key=REDACTED&access_token=REDACTED&sig=REDACTED",
        ),
        ("HTTP://host.example:8080/x", "http://host.example:8080/x"),
        (
            "https://h.example/f.csv#access_token=t&token_type=bearer&expires_in=3600",
            "https://h.example/f.csv#access_token=REDACTED&token_type=REDACTED&expires_in=3600",
        ),
        ("https://h.example/doc.html#section-2", "https://h.example/doc.html#section-2"),
        (
            "https://h.example/app#/cb?id_token=a&page=2",
            "https://h.example/app#/cb?id_token=REDACTED&page=2",
        ),
        (
            "https://h.example/x?JWT=1&Refresh_Token=2&CLIENT_SECRET=3&session=4&auth=5"
            "&credentials=6&passwd=7&code=8&limit=9",
            "https://h.example/x?JWT=REDACTED&Refresh_Token=REDACTED&CLIENT_SECRET=REDACTED"
            "&session=REDACTED&auth=REDACTED&credentials=REDACTED&passwd=REDACTED&code=REDACTED"
            "&limit=9",
        ),
        (
            "https://h.example/app;jsessionid=abc/x.csv?a=1",
            "https://h.example/app;jsessionid=REDACTED/x.csv?a=1",
        ),
    ],
)
def test_clean_url(url: str, clean: str) -> None:
    assert clean_url(url) == clean


@pytest.mark.parametrize(
    ("url", "recorded"),
    [
        ("abfs://lake/x.csv", "az://lake/x.csv"),
        ("ABFSS://Lake@acct.dfs.core.windows.net/d/x.csv", "az://lake/d/x.csv"),
        ("abfs://lake@acct.blob.core.windows.net/x.csv", "az://lake/x.csv"),
        ("abfss://user:pw@acct.dfs.core.windows.net/x.csv", "az://acct.dfs.core.windows.net/x.csv"),
        ("s3a://AKIA:secret@bucket/k.parquet", "s3://bucket/k.parquet"),
        ("gcs://b/o", "gs://b/o"),
        ("https://user@h.example/x", "https://h.example/x"),
    ],
)
def test_one_name_per_object_store(url: str, recorded: str) -> None:
    """What capture records and trace looks up: one scheme per store, a Spark-style ADLS
    container kept, credentials never."""
    assert clean_url(canonical_url(url)) == recorded


def test_redact_hides_urls_and_environment_values() -> None:
    from jupyter_lineage.redaction import redact

    environ = {
        "GITHUB_TOKEN": "ghp_abc",  # named like a secret: hidden however short (from 4)
        "SOME_SETTING": "quite-long-value-42",  # any value of 8+ characters
        "PATH": "/usr/bin:/bin",  # holds no secret
        "FEATURE": "on",
        "EDITOR": "vim",  # too short to hide safely
        "ESCAPED": "C:\\keys\\secret-1",  # shown escaped by print(os.environ)
    }
    text = f"environ({environ!r}) for url: https://h.example/x?api_key=k1"
    out = redact(text, environ)
    assert "ghp_abc" not in out and "[redacted $GITHUB_TOKEN]" in out
    assert "quite-long-value-42" not in out and "[redacted $SOME_SETTING]" in out
    assert "secret-1" not in out and "[redacted $ESCAPED]" in out
    assert "'/usr/bin:/bin'" in out and "'vim'" in out
    assert "api_key=REDACTED" in out
    assert redact("nothing to hide", environ) == "nothing to hide"


def test_the_working_folder_is_no_secret_but_a_password_is() -> None:
    """`PWD` reads like a password to the secret-name rule; it is the working folder (a path
    is not a secret), as docs/capture.md says. A variable named like a password still hides."""
    from jupyter_lineage.redaction import redact

    environ = {"PWD": "/home/ana/project", "OLDPWD": "/home/ana", "DB_PWD": "hunter22"}
    out = redact("python /home/ana/project/train.py --password hunter22", environ)
    assert out == "python /home/ana/project/train.py --password [redacted $DB_PWD]"


def test_scrub_text_cleans_urls_in_code() -> None:
    code = "df = pd.read_csv('https://bob:pw1@h.example/a.csv?token=t0k&v=1')\nx = 'a://b'"
    assert scrub_text(code) == (
        "df = pd.read_csv('https://h.example/a.csv?token=REDACTED&v=1')\nx = 'a://b'"
    )
    assert scrub_text("x = 1") == "x = 1"


def test_clean_remote() -> None:
    assert clean_remote("https://bob:ghp_x@github.com/o/r.git") == "https://github.com/o/r.git"
    assert clean_remote("git@github.com:o/r.git") == "github.com:o/r.git"
    assert clean_remote("/srv/git/repo") == "/srv/git/repo"


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/p/model.joblib", "model"),
        ("/p/m.pt", "model"),
        ("/p/m.onnx", "model"),
        ("/p/m.safetensors", "model"),
        ("/p/d.csv", "dataset"),
        ("/p/d.csv.gz", "dataset"),
        ("/p/d.parquet", "dataset"),
        ("/p/d.npy", "dataset"),
        ("/p/d.xlsx", "dataset"),
        ("/p/f.png", "figure"),
        ("/p/f.svg", "figure"),
        ("/p/r.pdf", "figure"),
        ("/p/n.ipynb", "notebook"),
        ("/p/README", "other"),
        ("https://h/x.csv?a=1", "dataset"),
    ],
)
def test_kinds(path: str, kind: str) -> None:
    assert kind_of(path) == kind


def test_api_kind_wins() -> None:
    assert kind_of("/p/weights.bin", "model") == "model"
    assert kind_of("/p/thing.dat", "model") == "model"


def test_noise() -> None:
    f = NoiseFilter(["/work/proj/.lineage"])
    site = next(p for p in sys.path if p.endswith("site-packages"))
    assert f.is_noise(os.path.join(site, "pandas", "core", "frame.py"), False)
    assert not f.is_noise(os.path.join(site, "sklearn", "datasets", "data", "iris.csv"), False)
    assert f.is_noise(os.path.join(site, "sklearn", "datasets", "data", "iris.csv"), True)
    assert f.is_noise(os.path.join(site, "matplotlib", "mpl-data", "matplotlibrc"), False)
    # another environment's packages (a font list shared by environments) are packages too
    other = "/opt/conda/envs/other/lib/python3.11/site-packages"
    assert f.is_noise(f"{other}/matplotlib/mpl-data/fonts/ttf/DejaVuSans.ttf", False)
    assert not f.is_noise(f"{other}/sklearn/datasets/data/iris.csv", False)
    assert f.is_noise("/proc/self/status", False)
    assert f.is_noise("/work/proj/.lineage/lineage.db", True)
    assert f.is_noise("/home/u/.cache/matplotlib/fontlist.json", True)
    assert f.is_noise("/work/proj/.ipynb_checkpoints/x-checkpoint.ipynb", True)
    assert not f.is_noise("/work/proj/data/train.csv", False)
    f.ignore("*.tmp", "scratch/")
    assert f.is_noise("/work/proj/a.tmp", True)
    assert f.is_noise(os.path.abspath("scratch/x.csv"), True)
    assert not f.is_noise("/work/proj/a.csv", True)
