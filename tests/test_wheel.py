"""The wheel path: a lab runs from an installed labutils wheel, with no checkout around it, as on Colab.

The wheel is built from this checkout and installed into a fresh virtual environment. Like Colab, whose Keras,
TensorFlow, NumPy and Jupyter come preinstalled, that environment sees the project environment's third-party
packages (through a ``.pth`` line) but not its labutils: ``pip`` must find every dependency the wheel declares
already installed (``--no-index``), and the kernel must import labutils from the wheel. One notebook is copied
alone into an empty directory (no ``data/``, no ``figures/``, no ``pyproject.toml`` above it) and executed in the
quick profile against the data directory that ``LABUTILS_DATA_DIR`` names.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest

import labutils

ROOT = Path(__file__).resolve().parents[1]
LAB = ROOT / "notebooks" / "01_dense_autoencoder.ipynb"


def _run(cmd, **kw):
    done = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)
    assert done.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def test_requires_python_matches_the_import_check():
    spec = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    (low, high) = labutils.SUPPORTED_PYTHON[0], labutils.SUPPORTED_PYTHON[-1]
    assert spec == f">={low[0]}.{low[1]},<{high[0]}.{high[1] + 1}", spec


@pytest.mark.parametrize("version", [(3, 10), (3, 13)])
def test_an_unsupported_python_is_refused_by_name(version):
    code = f"import sys; sys.version_info = {version + (0, 'final', 0)!r}; import labutils"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode != 0
    assert f"this is Python {version[0]}.{version[1]}" in done.stderr and "supports Python 3.11 and 3.12" in done.stderr


def test_a_lab_runs_from_the_wheel_alone(tmp_path, mnist_dir):
    wheels = tmp_path / "wheels"
    # build isolation: pip fetches the setuptools that pyproject.toml asks for (a fresh venv's bundled one is older)
    _run([sys.executable, "-m", "pip", "wheel", ROOT, "--no-deps", "-q", "-w", wheels])
    (wheel,) = wheels.glob("labutils-*.whl")

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", venv])
    python = venv / "bin" / "python"
    site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    # Colab's preinstalled stack: the project environment's packages, after the fresh environment's own.
    (site / "preinstalled.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run([python, "-m", "pip", "install", "--no-index", "-q", wheel])  # fails if a declared dependency is missing
    where = _run([python, "-c", "import labutils; print(labutils.__file__)"], cwd=tmp_path).stdout.strip()
    assert Path(where).is_relative_to(site), f"labutils came from {where}, not from the wheel"

    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(LAB, alone / LAB.name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LABS_", "LABUTILS_", "PYTHON"))}
    env.update(LABS_PROFILE="quick", LABS_STRICT="1", LABUTILS_DATA_DIR=str(mnist_dir), MPLBACKEND="Agg")
    driver = (
        "import sys, nbformat, nbclient\n"
        "nb = nbformat.read(sys.argv[1], 4)\n"
        "nbclient.NotebookClient(nb, timeout=600, kernel_name='python3',\n"
        "                        resources={'metadata': {'path': sys.argv[2]}}).execute()\n"
        "nbformat.write(nb, sys.argv[1])\n")
    _run([python, "-c", driver, alone / LAB.name, alone], cwd=alone, env=env, timeout=900)

    executed = json.loads((alone / LAB.name).read_text())
    text = "".join("".join(o.get("text", "")) for c in executed["cells"] for o in c.get("outputs", []))
    assert re.search(r"All \d+ bars met", text), text[-2000:]
    # labutils without a checkout writes its build folder into the working directory
    assert (alone / "build").is_dir() and any((alone / "build").rglob("dense_autoencoder.keras"))
    assert not (alone / "data").exists()
