"""The course book (tools/book.py, `make book`): what it publishes, and every page of it loaded in headless Chromium.

The end-to-end test builds the book from the labs' one quick run in `make test` (tests/test_grading_lab.py writes
the executed notebooks into the session's ``lab_build``; the file name sorts this module after it). Chromium is
Debian's ``chromium`` package (.ci/run installs it); without it these tests skip, and fail under CI=true.
"""
import copy
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from conftest import _missing
from labutils import grading
from test_notebooks import NOTEBOOKS

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("book", ROOT / "tools" / "book.py")
book = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(book)


@pytest.fixture(scope="module")
def chromium():
    if not (shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")):
        _missing("no Chromium for the book's browser check: apt-get install chromium")


def _lab(answer_output="SECRET-42"):
    """A tiny executed instructor notebook and its released version (one exercise and one written answer)."""
    meta = lambda gid, **kw: {"nbgrader": {"grade_id": gid, "schema_version": 3, **kw}}  # noqa: E731
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Lab 99 - tiny"),
        nbformat.v4.new_code_cell("print('lab')", outputs=[nbformat.v4.new_output("stream", text="lab\n")]),
        nbformat.v4.new_code_cell("### BEGIN SOLUTION\nx = 42\nprint(x)\n### END SOLUTION",
                                  metadata=meta("ex1", solution=True, grade=False, locked=False),
                                  outputs=[nbformat.v4.new_output("stream", text=answer_output)]),
        nbformat.v4.new_code_cell("assert x > 0\n### BEGIN HIDDEN TESTS\nassert x == 42\n### END HIDDEN TESTS",
                                  metadata=meta("ex1-test", solution=False, grade=True, locked=True, points=2)),
        nbformat.v4.new_markdown_cell("Why?\n### BEGIN SOLUTION\nBecause 42.\n### END SOLUTION",
                                      metadata=meta("ex1-explain", solution=True, grade=True, locked=False, points=1)),
    ])
    student = copy.deepcopy(nb)
    student.cells[2].source, student.cells[2].outputs = "# YOUR CODE HERE\nraise NotImplementedError()", []
    student.cells[3].source = "assert x > 0\n"
    student.cells[4].source = "Why?\nYOUR ANSWER HERE"
    return nb, student


def test_publishable_shows_exercises_as_released_without_outputs():
    executed, student = _lab()
    page = book.publishable(executed, student, "99_tiny.ipynb")
    text = json.dumps(page)
    for secret in ("x = 42", "SECRET-42", "HIDDEN TESTS", "Because 42", "BEGIN SOLUTION"):
        assert secret not in text
    assert page["cells"][1]["outputs"] == executed["cells"][1]["outputs"]  # the lab's own outputs stay
    assert page["cells"][2]["source"] == student.cells[2].source and page["cells"][2]["outputs"] == []
    assert page["cells"][4]["source"] == "Why?\nYOUR ANSWER HERE"
    assert "x = 42" in executed.cells[2].source, "the executed notebook itself is not changed"


def test_publishable_refuses_a_release_with_other_exercises():
    executed, student = _lab()
    student.cells[2].metadata["nbgrader"]["grade_id"] = "ex1-renamed"
    with pytest.raises(ValueError, match="make release"):
        book.publishable(executed, student, "99_tiny.ipynb")


def test_readme_links_become_book_links_or_repository_paths():
    labs = {"01_dense_autoencoder.ipynb": "Lab 01"}
    text = ("[01](notebooks/01_dense_autoencoder.ipynb) and [data/README.md](data/README.md), "
            "[`labutils/checks.py`](labutils/checks.py), [paper](https://arxiv.org/abs/1312.6114), ![d](x.svg)")
    assert book._relink(text, labs) == (
        "[01](labs/01_dense_autoencoder.ipynb) and data/README.md (`data/README.md` in the repository), "
        "`labutils/checks.py`, [paper](https://arxiv.org/abs/1312.6114), ![d](x.svg)")


def test_assemble_needs_an_executed_lab(tmp_path):
    with pytest.raises(FileNotFoundError, match="make run"):
        book.assemble(tmp_path, tmp_path / "src")


def test_the_check_finds_each_kind_of_problem(tmp_path, chromium):
    site = tmp_path / "html"
    site.mkdir()
    (site / "ok.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>')
    (site / "index.html").write_text(
        '<html><body id="top"><img src="ok.svg"><a href="good.html#here">fine</a><a href="#top">top</a>'
        '<a href="https://example.org/">outside, not loaded</a></body></html>')
    (site / "good.html").write_text('<html><body><h1 id="here">here</h1></body></html>')
    (site / "bad.html").write_text(
        '<html><body><img src="missing.png"><a href="nowhere.html">x</a><a href="good.html#gone">y</a>'
        '<script>undefinedFunction()</script><script src="https://example.org/tracker.js"></script></body></html>')
    problems, n = book.check(site)
    assert n == 3
    assert all(p.startswith("bad.html: ") for p in problems), problems
    found = "\n".join(problems)
    for what in ("HTTP 404 for /missing.png", "image not rendered: missing.png", "broken link to nowhere.html",
                 "broken link to good.html#gone (no such anchor)", "JavaScript error", "undefinedFunction",
                 "request leaves 127.0.0.1: https://example.org/tracker.js"):
        assert what in found, (what, problems)


def _quick_run(lab_build):
    """The labs' executed notebooks of `make test`'s quick run; run the missing ones (quick profile) when this module
    runs alone."""
    missing = [p for p in NOTEBOOKS if not (lab_build / "notebooks" / p.name).is_file()]
    if missing:
        env = dict(os.environ, LABS_PROFILE="quick", LABUTILS_BUILD_DIR=str(lab_build), LABS_STRICT="0")
        cmd = [sys.executable, "-m", "labutils.runner", "--profile", "quick"]
        for p in missing:
            cmd += ["--lab", p.name[:2]]
        subprocess.run(cmd, env=env, cwd=ROOT, check=False)
    return lab_build


def test_the_book_of_the_quick_run_renders_every_lab_without_a_problem(lab_build, mnist_dir, chromium, tmp_path):
    os.environ["LABUTILS_DATA_DIR"] = str(mnist_dir)  # only for labs this module has to run itself
    build = _quick_run(lab_build)
    html = book.build(build)
    labs = sorted((html / "labs").glob("*.html"))
    assert [p.stem for p in labs] == [p.stem for p in NOTEBOOKS]
    problems, n = book.check(html)
    assert not problems, "\n".join(problems)
    assert n >= len(NOTEBOOKS) + 3  # the labs, the front page, data and run times, results
    results = (html / "results.html").read_text()
    for source in NOTEBOOKS:
        page = (html / "labs" / f"{source.stem}.html").read_text()
        assert "BEGIN SOLUTION" not in page and "HIDDEN TESTS" not in page and "YOUR CODE HERE" in page
        assert page.count("<img") >= 2, f"{source.name}: its diagram and at least one figure"
        published = "\n".join(c.source for c in nbformat.read(build / "book" / "src" / "labs" / source.name, 4).cells)
        answer = set(grading.solution_lines(nbformat.read(source, 4))) - _outside_solutions(source)
        assert not [line for line in answer if len(line) > 12 and line in published], f"{source.name}: an answer"
        record = json.loads((build / "results" / f"{source.name[:2]}.json").read_text())
        for metric in record["metrics"]:
            assert metric.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") in results, metric
        assert f"labs/{source.stem}.html" in results
    shot = book.screenshot(html, "labs/01_dense_autoencoder.html", tmp_path / "lab01.png")
    assert shot.stat().st_size > 20_000


def _outside_solutions(path):
    from test_grading_lab import outside_solutions

    return outside_solutions(nbformat.read(path, 4))
