#!/usr/bin/env bash
# Idempotently install a Synapse homeserver into its own venv (.venv-synapse at the
# repository root) for the Matrix integration tests. Non-interactive; safe under CI=true.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="$ROOT/.venv-synapse"
PYTHON="${PYTHON:-python3}"

if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import synapse" >/dev/null 2>&1; then
    echo "install-synapse: $("$VENV/bin/python" -c 'import synapse; print("synapse", synapse.__version__)') already in $VENV"
    exit 0
fi

export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet "matrix-synapse"
"$VENV/bin/python" -c 'import synapse; print("install-synapse: synapse", synapse.__version__, "installed")'
