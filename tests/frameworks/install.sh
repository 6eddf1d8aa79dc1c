#!/usr/bin/env bash
# Creates the virtual environment of one of the frameworks MPCDiff tested besides CrypTen, from
# PyPI only, OUTSIDE the repository (never commit it; CI never runs this: it reads only the
# recorded JSON under tests/reference/frameworks/). The recipes are those of
# ../shared/research/frameworks.md §1.8, §2.8 and §3.7, which were verified on this kind of
# machine; the Python versions come from pyenv (TF-Encrypted 0.7.0 and syft 0.2.9 need 3.7).
#
#   tests/frameworks/install.sh spu  /work/fw-lab/spu    # spu 0.9.5, jax 0.4.34, Python 3.11
#   tests/frameworks/install.sh tfe  /work/fw-lab/tfe    # tf-encrypted 0.7.0, TF 1.15.2, Python 3.7
#   tests/frameworks/install.sh syft /work/fw-lab/syft   # syft 0.2.9, torch 1.4.0, Python 3.7
set -euo pipefail
FW=${1:?usage: install.sh spu|tfe|syft VENV_DIR}
VENV=${2:?usage: install.sh spu|tfe|syft VENV_DIR}
HERE="$(cd "$(dirname "$0")" && pwd)"
pyenv_python() { # the newest installed pyenv CPython of a minor version
    local v
    v="$(pyenv versions --bare | grep -E "^$1\.[0-9]+$" | sort -V | tail -n 1)"
    [ -n "$v" ] || { echo "install.sh: pyenv has no Python $1 (pyenv install $1)" >&2; exit 2; }
    echo "$(pyenv root)/versions/$v/bin/python"
}
case "$FW" in
spu)
    "$(pyenv_python 3.11)" -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --upgrade pip
    # spu 0.9.5 is the only release that resolves here (manylinux x86_64, Python 3.10/3.11); it
    # pulls jax/jaxlib 0.4.34 and numpy 1.26.
    "$VENV/bin/pip" install --quiet spu==0.9.5
    "$VENV/bin/python" -c "import spu, jax; print('spu', spu.__version__, 'jax', jax.__version__)"
    ;;
tfe)
    "$(pyenv_python 3.7)" -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --upgrade "pip<24"
    # TF 1.15.2: the 0.7.0 wheel ships its secure-random op only for 1.15.2 (with 1.15.5 TFE
    # falls back to tf.random_uniform; the numerics are the same either way).
    "$VENV/bin/pip" install --quiet tensorflow==1.15.2 numpy==1.18.5 protobuf==3.20.3 pyyaml
    # --no-deps: its tf-big requirement has no cp37 wheel here and is only used by `primitives`.
    "$VENV/bin/pip" install --quiet --no-deps tf-encrypted==0.7.0
    "$VENV/bin/python" -c "import tf_encrypted as tfe, tensorflow as tf; print('tfe', tfe.__version__ if hasattr(tfe, '__version__') else '0.7.0', 'tf', tf.__version__)"
    ;;
syft)
    "$(pyenv_python 3.7)" -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --upgrade "pip<24"
    "$VENV/bin/pip" install --quiet torch==1.4.0 torchvision==0.5.0 numpy==1.18.5
    # `pip install syft==0.2.9` fails on aiortc (needs native av/pylibsrtp), which only the WebRTC
    # grid code imports: install syft without dependencies, its pure-Python requirements by hand,
    # and a stub aiortc (tests/frameworks/stubs/aiortc) for the import.
    "$VENV/bin/pip" install --quiet --no-deps syft==0.2.9 syft-proto==0.5.3
    # (pinned as syft 0.2.9's metadata pins them)
    "$VENV/bin/pip" install --quiet shaloop==0.2.1a11 openmined.threepio==0.2.0 dill "lz4~=3.0.2" \
        msgpack "phe~=1.4.0" psutil==5.7.0 "requests~=2.22.0" "RestrictedPython~=5.0" \
        requests-toolbelt==0.9.1 "scipy~=1.4.1" "tblib~=1.6.0" "websocket-client~=0.57.0" \
        "websockets~=8.1.0" "Flask~=1.1.1" "flask-socketio~=4.2.1" "importlib-resources~=1.5.0" \
        tornado==4.5.3 "protobuf<3.21"
    site="$("$VENV/bin/python" -c 'import site; print(site.getsitepackages()[0])')"
    cp -r "$HERE/stubs/aiortc" "$site/"
    "$VENV/bin/python" -c "import pkg_resources, syft, torch; print('syft', pkg_resources.get_distribution('syft').version, 'torch', torch.__version__)"
    ;;
*)
    echo "install.sh: unknown framework '$FW' (spu, tfe or syft)" >&2
    exit 2
    ;;
esac
