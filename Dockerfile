# The project as a container image, for grading on a batch system or a machine without the set-up:
#   docker build -t genlabs .
#   docker run --rm --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
#       --security-opt systempaths=unconfined \
#       -v "$PWD/submitted:/submissions:ro" -v "$PWD/grades:/out" genlabs \
#       grade /submissions --out /out [--student ID] [--lab 01]
# bubblewrap inside the container needs user namespaces, which Docker's default seccomp and AppArmor profiles
# forbid: hence seccomp/apparmor (or a profile that allows unshare/clone with CLONE_NEWUSER), and a /proc it can
# mount, which the default masked paths prevent: systempaths=unconfined (podman: --security-opt unmask=ALL). The grader
# checks that it can start a sandbox before it grades anything.
# BASE: any Debian bookworm image whose `python` is Python 3.11 or 3.12 with venv (the default is the official one)
ARG BASE=python:3.12-slim-bookworm
FROM ${BASE}

RUN apt-get update \
 && apt-get install -y --no-install-recommends bubblewrap make \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/genlabs
# the same steps as `make install`, dependencies first so that they stay cached
COPY requirements.txt pyproject.toml README.md ./
RUN python -m venv .venv \
 && .venv/bin/python -m pip install --quiet --upgrade pip \
 && .venv/bin/python -m pip install --quiet -r requirements.txt
COPY Makefile ./
COPY labutils labutils
COPY notebooks notebooks
COPY deploy deploy
RUN .venv/bin/python -m pip install --quiet --no-deps -e . && touch .venv/.installed

ENV PATH=/opt/genlabs/.venv/bin:$PATH \
    TF_CPP_MIN_LOG_LEVEL=2 \
    LABUTILS_BUILD_DIR=/tmp/genlabs-build
ENTRYPOINT ["python", "-m", "labutils.grading"]
CMD ["--help"]
