"""Where the project lives is said once (``[tool.genlabs]`` in pyproject.toml); badges, install cells and the
committed student versions follow from it (tools/links.py, ``make links``, ``make release``)."""
import importlib.util
import json
import re
from pathlib import Path

import pytest
from IPython.core.inputtransformer2 import TransformerManager

from labutils import grading
from test_notebooks import NOTEBOOKS

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("links", ROOT / "tools" / "links.py")
links = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(links)

REPO = "https://github.com/example-course/deep-generative-labs"


def _notebook(name):
    return json.loads((ROOT / "notebooks" / f"{name}.ipynb").read_text())


def test_every_notebook_is_up_to_date_with_pyproject():
    assert links.main(["--check"]) == 0, "run `make links`"


def test_settings_refuse_malformed_values(tmp_path):
    for table, why in [('repository = "https://gitlab.com/a/b"\nrelease = "v0.1.0"', "repository"),
                       ('repository = ""\nrelease = "main"', "release"),
                       ('repository = "https://github.com/a/b/tree/main"\nrelease = "v1.0.0"', "repository")]:
        toml = tmp_path / "pyproject.toml"
        toml.write_text(f"[tool.genlabs]\n{table}\n")
        with pytest.raises(ValueError, match=why):
            links.settings(toml)


def test_with_a_repository_the_badge_opens_the_student_version_at_the_release_tag():
    name = "01_dense_autoencoder"
    nb = links.render(_notebook(name), name, REPO, "v1.2.3", {"keras": "3.15.1", "tensorflow": "2.21.0"})
    header = "".join(nb["cells"][0]["source"])
    assert ("(https://colab.research.google.com/github/example-course/deep-generative-labs/blob/v1.2.3/"
            f"release/{name}/{name}.ipynb)") in header
    install = "".join(next(c for c in nb["cells"] if c["cell_type"] == "code")["source"])
    assert f'%pip install -q --no-deps "labutils @ git+{REPO}@v1.2.3"' in install, "pinned to the tag, no deps"
    assert "tensorflow" not in install.split("%pip", 1)[1].split("\n")[0], "TensorFlow is not reinstalled"
    assert "'3.15.1'" in install and "'2.21.0'" in install and "WARNING" in install
    compile(TransformerManager().transform_cell(install), "install", "exec")  # valid IPython


def test_without_a_repository_nothing_points_anywhere_and_colab_is_told_so():
    name = "02_autoencoder_cnn"
    nb = links.render(_notebook(name), name, "", "v0.1.0", links.tested_versions())
    header = "".join(nb["cells"][0]["source"])
    assert "github" not in header and "no Colab link yet" in header
    install = "".join(next(c for c in nb["cells"] if c["cell_type"] == "code")["source"])
    assert "pip" not in install and "raise RuntimeError" in install
    compile(install, "install", "exec")


def test_no_notebook_or_document_names_another_repository():
    repository, _ = links.settings()
    allowed = {repository.removeprefix("https://github.com/")} - {""}
    documents = [*NOTEBOOKS, *sorted((ROOT / "release").glob("*/*.ipynb")), ROOT / "README.md", ROOT / "Dockerfile",
                 *sorted((ROOT / "deploy").rglob("*")), *sorted((ROOT / "data").glob("*.md"))]
    found = {}
    for path in documents:
        if path.is_file():
            text = path.read_text()
            for pattern in (r"github\.com/([\w.-]+/[\w.-]+)", r"colab\.research\.google\.com/github/([\w.-]+/[\w.-]+)",
                            r"raw\.githubusercontent\.com/([\w.-]+/[\w.-]+)"):
                for repo in re.findall(pattern, text):
                    if repo.removesuffix(".git") not in allowed:
                        found.setdefault(path.relative_to(ROOT).as_posix(), set()).add(repo)
    assert not found, f"repository URLs not generated from [tool.genlabs]: {found}"


def test_committed_student_versions_are_make_release_output(tmp_path):
    fresh = grading.release(tmp_path / "release", course_dir=tmp_path / "course")
    committed = ROOT / "release"
    assert sorted(p.parent.name for p in fresh) == sorted(p.name for p in committed.iterdir() if p.is_dir()), \
        "release/ holds one folder per lab: run `make release`"
    for nb in fresh:
        def files(folder):
            return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
        new, old = files(nb.parent), files(committed / nb.parent.name)
        stale = sorted(k for k in new.keys() | old.keys() if new.get(k) != old.get(k))
        assert not stale, f"release/{nb.parent.name} differs from `make release` ({stale}): run it and commit"
