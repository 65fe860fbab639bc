"""JupyterLab as a student gets it: the student versions (release/), without nbgrader's instructor tools.

    python tools/student_lab.py [--print-config] [JUPYTER LAB ARGUMENTS ...]     # make student-lab

nbgrader installs its JupyterLab extensions for everyone in the environment: the instructor's "Formgrader", "Create
Assignment" and "Course List", and the student's "Assignment List" (which needs an exchange directory this course
does not use) and "Validate". This server turns off all but "Validate" for itself only, through a Jupyter
configuration directory of its own (build/student-jupyter, JUPYTER_CONFIG_DIR): `make lab` and other servers keep
them. JupyterLab's settings made in this server are kept there too.
"""
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG_DIR = ROOT / "build" / "student-jupyter"
# nbgrader's user guide, "Installation": its lab extensions' plugin ids and its server extensions
LAB_PLUGINS_OFF = ["@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                   "@jupyter/nbgrader:course-list", "@jupyter/nbgrader:assignment-list"]
SERVER_EXTENSIONS_OFF = ["nbgrader.server_extensions.formgrader", "nbgrader.server_extensions.course_list",
                         "nbgrader.server_extensions.assignment_list"]


def write_config(config_dir: Path = CONFIG_DIR) -> Path:
    """Write the student server's Jupyter configuration into ``config_dir``; return it."""
    (config_dir / "labconfig").mkdir(parents=True, exist_ok=True)
    (config_dir / "labconfig" / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {p: True for p in LAB_PLUGINS_OFF}}, indent=1) + "\n")
    (config_dir / "jupyter_server_config.json").write_text(
        json.dumps({"ServerApp": {"jpserver_extensions": {e: False for e in SERVER_EXTENSIONS_OFF}}}, indent=1) + "\n")
    return config_dir


def main(argv=None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    config = write_config()
    if "--print-config" in args:
        print(config)
        return 0
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(config))
    jupyter = Path(sys.executable).with_name("jupyter")
    os.execve(str(jupyter), [str(jupyter), "lab", str(ROOT / "release"), *args], env)


if __name__ == "__main__":
    sys.exit(main())
