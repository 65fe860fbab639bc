"""`make student-lab` (tools/student_lab.py): JupyterLab on the student versions without nbgrader's instructor tools,
while `make lab`'s server keeps them."""
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "student-lab-test"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, ""


def _server(cmd, env, port):
    proc = subprocess.Popen(cmd + ["--no-browser", "--allow-root", f"--port={port}", "--ServerApp.ip=127.0.0.1",
                                   f"--IdentityProvider.token={TOKEN}", "--ServerApp.port_retries=0"],
                            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            if _get(f"http://127.0.0.1:{port}/api/status?token={TOKEN}")[0] == 200:
                return proc
        except OSError:
            pass
        time.sleep(0.5)
    proc.kill()
    pytest.fail(f"{cmd} did not answer on port {port} within 90 s")


@pytest.mark.parametrize("who", ["student", "instructor"])
def test_student_server_hides_the_instructor_tools_and_serves_the_student_versions(who, tmp_path):
    port = _free_port()
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"))
    env.pop("JUPYTER_CONFIG_DIR", None)
    jupyter = str(Path(sys.executable).with_name("jupyter"))
    cmd = [sys.executable, "tools/student_lab.py"] if who == "student" else [jupyter, "lab", "notebooks"]
    proc = _server(cmd, env, port)
    try:
        base = f"http://127.0.0.1:{port}"
        formgrader, _ = _get(f"{base}/formgrader?token={TOKEN}")
        _, page = _get(f"{base}/lab?token={TOKEN}")
        config = json.loads(page.split('id="jupyter-config-data"', 1)[1].split('>', 1)[1].split("</script>", 1)[0])
        disabled = set(config.get("disabledExtensions", []))
        _, listing = _get(f"{base}/api/contents?token={TOKEN}")
        names = {c["name"] for c in json.loads(listing)["content"]}
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    tools = {"@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment", "@jupyter/nbgrader:course-list"}
    if who == "student":
        assert formgrader == 404
        assert tools <= disabled and "@jupyter/nbgrader:validate-assignment" not in disabled
        assert "01_dense_autoencoder" in names  # release/: one folder per lab, notebook and diagram
    else:
        assert formgrader in (200, 302)
        assert not tools & disabled
        assert "01_dense_autoencoder.ipynb" in names
