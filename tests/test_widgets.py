"""%track graph / %track diff build real widgets in a real kernel, with a static HTML fallback."""

from __future__ import annotations

from pathlib import Path

from .kernel import Kernel

WIDGET = "application/vnd.jupyter.widget-view+json"


def test_graph_and_diff_render_as_widgets_with_html_fallback(kernel: Kernel, project: Path) -> None:
    (project / "data.csv").write_text("x\n1\n2\n")
    k = kernel
    k.check("%load_ext jupyter_lineage")
    k.check("import pandas as pd\ndf = pd.read_csv('data.csv')")
    k.check("# <img src=x onerror=alert(1)>\ndf.to_csv('<i>out.csv')")
    reply = k.check("%track graph")
    bundle = reply.results[-1]
    assert WIDGET in bundle and bundle[WIDGET]["model_id"]
    page = bundle["text/html"]
    assert "data.csv" in page and "&lt;i&gt;out.csv" in page
    assert "<img src=x" not in page and "<i>out" not in page
    assert "<svg" in page and "<line" in page
    assert "nodes" in bundle["text/plain"]
    # the cells are linked by the variable one used from the other
    assert '<text class="flow"' in page and ">df</text>" in page

    traced = k.check("%track graph '<i>out.csv'").results[-1]
    assert "data.csv" in traced["text/html"] and ">df</text>" in traced["text/html"]

    k.check("%unload_ext jupyter_lineage")
    k.check("%load_ext jupyter_lineage")
    k.check("import pandas as pd\ndf = pd.read_csv('data.csv')")
    diff = k.check("%track diff @last~1 @last").results[-1]
    assert WIDGET in diff
    assert "<details" in diff["text/html"] and "code" in diff["text/html"]
    bad = k.run("%track diff only-one")
    assert bad.status == "error" and "Usage: %track diff" in bad.stderr
