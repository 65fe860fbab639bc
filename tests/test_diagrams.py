"""Each lab's diagram (notebooks/figures/NN_*.svg) is what notebooks/figures/make_diagrams.py draws, and each
notebook shows its diagram near the top with alt text."""
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ROOT / "notebooks" / "figures"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.fixture(scope="module")
def drawn(tmp_path_factory):
    out = tmp_path_factory.mktemp("diagrams")
    subprocess.run([sys.executable, str(FIGURES / "make_diagrams.py"), "--out", str(out)], check=True,
                   capture_output=True)
    return out


def test_committed_diagrams_are_the_script_output(drawn):
    made = sorted(p.name for p in drawn.glob("*.svg"))
    assert made == [nb.stem + ".svg" for nb in NOTEBOOKS], "one diagram per lab, named after its notebook"
    for name in made:
        assert (FIGURES / name).read_bytes() == (drawn / name).read_bytes(), \
            f"{name} differs from make_diagrams.py's output: run python notebooks/figures/make_diagrams.py"


def test_diagrams_keep_text_as_text_and_carry_a_title(drawn):
    for svg in drawn.glob("*.svg"):
        text = svg.read_text()
        assert "<text" in text, f"{svg.name}: labels were drawn as paths (svg.fonttype must be 'none')"
        assert re.search(r">Lab \d\d: ", text), f"{svg.name}: no 'Lab NN: ...' title"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name[:2])
def test_notebook_shows_its_diagram_near_the_top_with_alt_text(notebook):
    cells = json.loads(notebook.read_text())["cells"]
    found = [(i, m) for i, c in enumerate(cells) if c["cell_type"] == "markdown"
             for m in re.finditer(r"!\[([^\]]*)\]\(figures/([^)]+)\)", "".join(c["source"]))]
    assert found, f"{notebook.name} shows no diagram from figures/"
    index, match = found[0]
    assert index <= 3, f"{notebook.name}: the diagram should come before the code (cell {index})"
    assert match.group(2) == notebook.stem + ".svg"
    assert len(match.group(1).split()) >= 8, f"{notebook.name}: the alt text should describe the diagram"
