"""Write the notebooks' Colab badges and Colab install cells from one source: ``[tool.genlabs]`` in pyproject.toml.

    python tools/links.py            # rewrite them (make links)
    python tools/links.py --check    # exit 1 and list the notebooks whose links are out of date

``repository`` is the project's public home (``https://github.com/<owner>/<name>``), empty until it has one;
``release`` is the tag the badges and install cells point at (never a branch). With a repository, each lab's badge
opens its student version at that tag (``release/<lab>/<lab>.ipynb``, written by ``make release``) and its first
code cell installs labutils from that tag on Colab without touching Colab's Keras or TensorFlow, then warns if they
are older than the versions the labs were tested with (``requirements.txt``). Without one, the header says that the
lab has no Colab link yet and the cell stops on Colab with that message, so nothing points at anyone's repository.
"""
import argparse
import json
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
BADGE_LINE = re.compile(r"^(\[!\[Open In Colab\]\(.*|\*Open in Colab:.*)$", re.M)
INSTALL_MARK = "# Colab set-up (written by `make links` from pyproject.toml; do not edit by hand)"
GITHUB = re.compile(r"^https://github\.com/([A-Za-z0-9][A-Za-z0-9-]{0,38})/([A-Za-z0-9._-]{1,100})$")


def settings(pyproject=ROOT / "pyproject.toml"):
    """``(repository, release)`` from ``[tool.genlabs]``; ValueError when either is malformed."""
    table = tomllib.loads(Path(pyproject).read_text())["tool"]["genlabs"]
    repository, release = table.get("repository", "").rstrip("/"), table.get("release", "")
    if repository and not GITHUB.match(repository):
        raise ValueError(f"[tool.genlabs] repository must be https://github.com/<owner>/<name> or empty; "
                         f"got {repository!r}")
    if not re.fullmatch(r"v\d+\.\d+\.\d+", release):
        raise ValueError(f"[tool.genlabs] release must be a version tag such as 'v0.1.0'; got {release!r}")
    return repository, release


def tested_versions(requirements=ROOT / "requirements.txt"):
    """``{"keras": "3.15.1", "tensorflow": "2.21.0"}``: the pins the labs are tested with."""
    pins = dict(re.findall(r"^(keras|tensorflow(?:-cpu)?)==([\w.]+)", Path(requirements).read_text(), re.M))
    return {"keras": pins["keras"], "tensorflow": pins.get("tensorflow-cpu", pins.get("tensorflow"))}


def badge(name, repository, release):
    if not repository:
        return ("*Open in Colab: this copy of the lab has no Colab link yet; run it locally (see the README's "
                "set-up), or ask your instructor for the link.*")
    path = repository.removeprefix("https://github.com/")
    return ("[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
            f"(https://colab.research.google.com/github/{path}/blob/{release}/release/{name}/{name}.ipynb)")


def install_cell(repository, release, versions):
    if not repository:
        return (f"{INSTALL_MARK}\n"
                "import sys\n"
                "if \"google.colab\" in sys.modules:\n"
                "    raise RuntimeError(\"This copy of the lab does not say where its labutils package is published: \"\n"
                "                       \"ask your instructor for the lab's Colab link.\")")
    keras_v, tf_v = versions["keras"], versions["tensorflow"]
    return (f"{INSTALL_MARK}\n"
            f"# On Colab: install labutils {release} (only it: Colab's Keras and TensorFlow are kept), then check versions.\n"
            "import sys\n"
            "if \"google.colab\" in sys.modules:\n"
            f"    %pip install -q --no-deps \"labutils @ git+{repository}@{release}\"\n"
            "    import keras, tensorflow\n"
            f"    tested = {{\"keras\": ({keras_v!r}, keras.__version__), \"tensorflow\": ({tf_v!r}, tensorflow.__version__)}}\n"
            "    for package, (want, have) in tested.items():\n"
            "        if tuple(int(p) for p in have.split(\".\")[:2]) < tuple(int(p) for p in want.split(\".\")[:2]):\n"
            "            print(f\"WARNING: this lab was tested with {package} {want}; Colab has {have}. If a cell \"\n"
            "                  f\"fails, run %pip install -q '{package}>={want}' and restart the session.\")")


def render(nb, name, repository, release, versions):
    """The notebook dict with its badge line and install cell rewritten (a copy)."""
    nb = json.loads(json.dumps(nb))
    header = "".join(nb["cells"][0]["source"])
    if not BADGE_LINE.search(header):
        raise ValueError(f"{name}: the first cell has no Colab badge line to rewrite")
    header = BADGE_LINE.sub(lambda m: badge(name, repository, release), header, count=1)
    nb["cells"][0]["source"] = header.splitlines(keepends=True)
    cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
    if not cells or not "".join(cells[0]["source"]).startswith(INSTALL_MARK):
        raise ValueError(f"{name}: the first code cell must be the Colab set-up cell ({INSTALL_MARK!r})")
    cells[0]["source"] = install_cell(repository, release, versions).splitlines(keepends=True)
    return nb


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a notebook is out of date")
    args = parser.parse_args(argv)
    repository, release = settings()
    versions = tested_versions()
    stale = []
    for path in NOTEBOOKS:
        nb = json.loads(path.read_text())
        new = render(nb, path.stem, repository, release, versions)
        if new != nb:
            stale.append(path.name)
            if not args.check:
                path.write_text(json.dumps(new, indent=1, ensure_ascii=False) + "\n")
    if args.check and stale:
        print("out of date (run `make links`): " + ", ".join(stale))
        return 1
    print(("rewrote " if stale else "up to date: ") + (", ".join(stale) if stale else f"{len(NOTEBOOKS)} notebooks"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
