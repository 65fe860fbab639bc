"""The course book: the labs as `make run` executed them, as one static HTML site, and its browser check.

    python tools/book.py                  # make book: build/book/html/ from build/notebooks/ and build/results/
    python tools/book.py --check          # serve build/book/html/ on 127.0.0.1, load every page in headless Chromium
    python tools/book.py --screenshot out.png --page labs/01_dense_autoencoder.html

The build directory is LABUTILS_BUILD_DIR, or build/ (``--build DIR`` overrides both). The book is built with Sphinx,
MyST-NB and the sphinx-book-theme (Jupyter Book 1's stack, all pure Python): Jupyter Book 2 fetches its site theme
from the internet at build time, which machines without internet (and CI) cannot. The notebooks are rendered as
executed, not run again. Exercises appear as students receive them (the released version in release/NN_name/), without
outputs: the book publishes no solution, hidden test or model answer. Equations are typeset by MathJax, which the
pages load from its CDN (as Jupyter Book's do); read offline, they show their TeX source.

The check fails on a page that raised a JavaScript error, a resource that did not load (an image, a style sheet, a
script: a 4xx/5xx answer or a failed request), an image that did not render, a link to a page or anchor of the book
that does not exist, and a request that leaves 127.0.0.1 for anything but MathJax's CDN (CI has no internet; the
request is answered with an error and the page must cope).
"""
from __future__ import annotations

import argparse
import copy
import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
RELEASE = ROOT / "release"
LAB_NAME = re.compile(r"([0-9]{2})_[A-Za-z0-9_]+\.ipynb")
MATHJAX_CDN = "https://cdn.jsdelivr.net/npm/mathjax@"  # Sphinx's default mathjax_path; the one allowed outside request
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]

CONF = '''# Written by tools/book.py (make book); edit tools/book.py instead.
project = "genlabs: autoencoders and deep generative models"
extensions = ["myst_nb"]
html_theme = "sphinx_book_theme"
html_title = "genlabs"
html_theme_options = {"home_page_in_toc": True, "show_toc_level": 2}
html_static_path = []
nb_execution_mode = "off"           # rendered as `make run` executed them
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3
exclude_patterns = ["_build"]
suppress_warnings = ["myst.header", "mystnb.unknown_mime_type"]
'''


def build_dir(value=None) -> Path:
    """The run's build directory: ``value``, else ``LABUTILS_BUILD_DIR``, else ``build/`` of the checkout."""
    if value:
        return Path(value).resolve()
    env = os.environ.get("LABUTILS_BUILD_DIR", "").strip()
    return Path(env).expanduser().resolve() if env else ROOT / "build"


def publishable(executed: dict, student: dict, name: str = "notebook") -> dict:
    """The executed instructor notebook with every exercise as released to students, without outputs.

    Args:
        executed: the executed instructor notebook (nbformat 4 JSON as a dict).
        student: the same lab as released (``release/NN_name.ipynb``): the same cells, answers and hidden tests blank.
        name: the notebook's name, for error messages.

    Returns:
        A copy of ``executed`` whose nbgrader cells (answers, their tests, written answers) carry the student
        version's source and no outputs; every other cell keeps its outputs.

    Raises:
        ValueError: the two notebooks do not hold the same nbgrader cells (re-run ``make release``).
    """
    def graded(nb):
        return {c["metadata"]["nbgrader"]["grade_id"]: c for c in nb["cells"]
                if c.get("metadata", {}).get("nbgrader", {}).get("grade_id")}

    released = graded(student)
    out = copy.deepcopy(executed)
    ours = graded(out)
    if set(ours) != set(released):
        raise ValueError(f"{name}: the executed notebook's exercises {sorted(ours)} are not the released version's "
                         f"{sorted(released)}: the lab changed since it ran (make run LAB={name[:2]}), or release/ is "
                         "out of date (make release).")
    for gid, cell in ours.items():
        cell["source"] = released[gid]["source"]
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    return out


def _wall_time(nb: dict) -> float | None:
    """Seconds from the first code cell's start to the last one's reply (nbclient's timing metadata), or None."""
    stamps = [c.get("metadata", {}).get("execution", {}) for c in nb["cells"] if c["cell_type"] == "code"]
    stamps = [s for s in stamps if "iopub.execute_input" in s and "shell.execute_reply" in s]
    if not stamps:
        return None
    parse = lambda t: datetime.fromisoformat(t.replace("Z", "+00:00"))  # noqa: E731
    return (parse(stamps[-1]["shell.execute_reply"]) - parse(stamps[0]["iopub.execute_input"])).total_seconds()


def _title(nb: dict, fallback: str) -> str:
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            match = re.search(r"^# (.+)$", text, re.M)
            if match:
                return match.group(1).strip()
    return fallback


def _section(text: str, heading: str) -> str:
    """README's section under ``heading`` (a ``## `` line), up to the next ``## `` heading."""
    match = re.search(rf"^{re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    if not match:
        raise ValueError(f"README.md has no section {heading!r}")
    return match.group(1).strip()


def _relink(markdown: str, labs: dict[str, str]) -> str:
    """README's Markdown for the book: links to a lab open its page; links to other files of the repository (which
    the book does not hold) become their path in code font."""
    def swap(match):
        text, target = match.group(1), match.group(2)
        if re.match(r"[a-z]+://|#|mailto:", target):
            return match.group(0)
        lab = LAB_NAME.search(target)
        if lab and lab.group(0) in labs:
            return f"[{text}](labs/{Path(lab.group(0)).stem}.ipynb)"
        return text if text.startswith("`") else f"{text} (`{target}` in the repository)"
    return re.sub(r"(?<!!)\[([^\]]+)\]\(([^)\s]+)\)", swap, markdown)


def assemble(build: Path, src: Path) -> list[str]:
    """Write the book's sources into ``src``: conf.py, the front page, the data and run-time page, the results page and
    one page per executed lab (``build/notebooks/NN_*.ipynb``). Returns the labs' notebook names.

    Raises:
        FileNotFoundError: no executed lab in ``build/notebooks/`` (run ``make run`` first), or a lab has no released
            version in release/.
    """
    executed = sorted(p for p in (build / "notebooks").glob("*.ipynb") if LAB_NAME.fullmatch(p.name)) \
        if (build / "notebooks").is_dir() else []
    if not executed:
        raise FileNotFoundError(f"no executed lab in {build / 'notebooks'}: run `make run` (or `make run "
                                f"PROFILE=quick`) first")
    if src.exists():
        shutil.rmtree(src)
    (src / "labs").mkdir(parents=True)
    shutil.copytree(NOTEBOOKS / "figures", src / "labs" / "figures",
                    ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    (src / "conf.py").write_text(CONF)

    summary = json.loads((build / "results.json").read_text()) if (build / "results.json").is_file() else []
    wall = {r["lab"]: r.get("wall_time_s") for r in summary if isinstance(r, dict) and "lab" in r}
    records, labs = [], {}
    for path in executed:
        student = RELEASE / path.stem / path.name
        if not student.is_file():
            raise FileNotFoundError(f"{student} is missing: run `make release`")
        nb = json.loads(path.read_text())
        page = publishable(nb, json.loads(student.read_text()), path.name)
        (src / "labs" / path.name).write_text(json.dumps(page, indent=1, ensure_ascii=False) + "\n")
        labs[path.name] = _title(nb, path.stem)
        number = path.name[:2]
        result = build / "results" / f"{number}.json"
        record = json.loads(result.read_text()) if result.is_file() else {"lab": number, "status": "no results"}
        record.setdefault("status", "passed" if record.get("passed") else "failed")
        record.update(notebook=path.name, profile=record.get("profile", "?"))
        seconds = wall.get(number) or _wall_time(nb)
        record["wall_time_s"] = float(seconds) if seconds is not None else float("nan")
        records.append(record)

    readme = (ROOT / "README.md").read_text()
    intro = readme.split("\n## ", 1)[0].split("\n", 1)[1].strip()
    runs = sorted({(r.get("dataset", "?"), r["profile"], r.get("backend", "?")) for r in records})
    said = "; ".join(f"{d} data, {p} profile, {b} backend" for d, p, b in runs)
    (src / "index.md").write_text(
        "# genlabs: autoencoders and deep generative models\n\n" + _relink(intro, labs) + "\n\n"
        "## This book\n"
        f"Every lab below is shown as it ran ({said}): its figures, its printed numbers and, at its end, its results "
        "table with the bars it must meet. The exercises are shown as students receive them, without answers or "
        "outputs. [Data and run times](data.md) says which data each lab uses and how long the labs take; "
        "[Results](results.md) gathers every lab's measured results on one page.\n\n"
        "```{toctree}\n:maxdepth: 1\n:caption: Labs\n\n"
        + "".join(f"labs/{Path(n).stem}\n" for n in labs) + "```\n\n"
        "```{toctree}\n:maxdepth: 1\n:caption: Measurements\n\ndata\nresults\n```\n")
    (src / "data.md").write_text("# Data and run times\n\n" + _relink(_section(readme, "## Data"), labs) + "\n")
    from labutils import runner

    table = runner.results_markdown(records)
    for name in labs:  # each lab's row links to its page
        table = table.replace(f"| {name} |", f"| [{name}](labs/{Path(name).stem}.ipynb) |")
    (src / "results.md").write_text(
        "# Results\n\nEvery lab's results table from the run this book shows: its metrics, the bars it must meet and "
        "whether it met them, with the lab's wall time in seconds.\n\n" + table)
    return list(labs)


def build(build: Path, out: Path | None = None) -> Path:
    """Assemble the sources under ``build/book/src`` and render them with Sphinx into ``out``
    (default ``build/book/html``). Returns the HTML directory.

    Raises:
        FileNotFoundError: see :func:`assemble`. subprocess.CalledProcessError: Sphinx failed.
    """
    src = build / "book" / "src"
    out = out or build / "book" / "html"
    labs = assemble(build, src)
    if out.exists():
        shutil.rmtree(out)
    subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-q", "-j", "1", str(src), str(out)], check=True)
    print(f"book: {len(labs)} labs -> {out / 'index.html'}")
    return out


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(html: Path):
    """An HTTP server for ``html`` on 127.0.0.1 (a free port), running in a thread; ``.shutdown()`` stops it."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(html)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _chromium():
    from playwright.sync_api import sync_playwright

    path = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if not path:
        raise FileNotFoundError("no Chromium: install Debian's chromium package (apt-get install chromium)")
    manager = sync_playwright().start()
    return manager, manager.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)


def check(html: Path, pages: list[str] | None = None) -> tuple[list[str], int]:
    """Load every page of the book in headless Chromium; return ``(problems, pages checked)``.

    Args:
        html: the book's HTML directory (:func:`build`'s result).
        pages: paths relative to ``html`` (default: every ``*.html`` outside ``_static``/``_sources``).

    Returns:
        One line per problem, naming the page: a JavaScript error, a resource that did not load, an image that did
        not render, a link to a page or anchor of the book that does not exist, a request that left 127.0.0.1.
    """
    pages = pages or sorted(str(p.relative_to(html)) for p in html.rglob("*.html")
                            if not {"_static", "_sources", "_images"} & set(p.relative_to(html).parts))
    server = serve(html)
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    problems, anchors = [], {}
    manager, browser = _chromium()
    try:
        page = browser.new_page()
        current = {"page": ""}

        def note(what):
            problems.append(f"{current['page']}: {what}")

        def route(r):
            if urlsplit(r.request.url).hostname == "127.0.0.1" or r.request.url.startswith(("data:", "blob:")):
                r.continue_()
            else:
                if not r.request.url.startswith(MATHJAX_CDN):
                    note(f"request leaves 127.0.0.1: {r.request.url}")
                r.abort()

        page.route("**/*", route)
        page.on("pageerror", lambda e: note(f"JavaScript error: {e}"))
        page.on("requestfailed", lambda r: urlsplit(r.url).hostname == "127.0.0.1"
                and note(f"failed to load {r.url[len(base) - 1:]}: {r.failure}"))
        page.on("response", lambda r: r.status >= 400 and note(f"HTTP {r.status} for {r.url[len(base) - 1:]}"))
        links = []
        for rel in pages:
            current["page"] = rel
            page.goto(base + rel, wait_until="load")
            page.wait_for_load_state("networkidle")
            for src in page.evaluate("Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0)"
                                     ".map(i => i.getAttribute('src'))"):
                note(f"image not rendered: {src}")
            anchors[rel] = set(page.evaluate("Array.from(document.querySelectorAll('[id]')).map(e => e.id)"))
            links += [(rel, href) for href in page.evaluate(
                "Array.from(document.querySelectorAll('a[href]')).map(a => a.href)") if href.startswith(base)]
        for rel, href in sorted(set(links)):
            target, _, fragment = href[len(base):].partition("#")
            target = unquote(target) or "index.html"
            if target.endswith("/"):
                target += "index.html"
            if not (html / target).is_file():
                problems.append(f"{rel}: broken link to {target}")
            elif fragment and target in anchors and unquote(fragment) not in anchors[target]:
                problems.append(f"{rel}: broken link to {target}#{fragment} (no such anchor)")
    finally:
        browser.close()
        manager.stop()
        server.shutdown()
    return problems, len(pages)


def screenshot(html: Path, page_path: str, png: Path, width: int = 1280, height: int = 1600) -> Path:
    """Save a PNG of one page of the book as Chromium renders it (``width`` x ``height`` CSS pixels)."""
    server = serve(html)
    manager, browser = _chromium()
    try:
        page = browser.new_page(viewport={"width": width, "height": height})
        page.goto(urljoin(f"http://127.0.0.1:{server.server_address[1]}/", page_path), wait_until="networkidle")
        page.screenshot(path=str(png))
    finally:
        browser.close()
        manager.stop()
        server.shutdown()
    return png


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", help="build directory (default LABUTILS_BUILD_DIR or build/)")
    parser.add_argument("--check", action="store_true", help="load every page in headless Chromium; exit 1 on a problem")
    parser.add_argument("--screenshot", metavar="PNG", help="save a PNG of --page")
    parser.add_argument("--page", default="index.html", help="the page for --screenshot (relative to the book)")
    args = parser.parse_args(argv)
    html = build_dir(args.build) / "book" / "html"
    if args.check or args.screenshot:
        if not (html / "index.html").is_file():
            print(f"no book in {html}: run `make book` first", file=sys.stderr)
            return 2
        if args.screenshot:
            print(f"written: {screenshot(html, args.page, Path(args.screenshot))}")
        if args.check:
            problems, n = check(html)
            print("\n".join(problems) or f"book check: {n} pages loaded in Chromium, no problem")
            return 1 if problems else 0
        return 0
    try:
        build(build_dir(args.build))
    except (FileNotFoundError, ValueError) as exc:
        print(f"make book: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
