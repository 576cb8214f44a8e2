#!/usr/bin/env bash
# Build .venv-oracle: Python 3.12 with graphon 0.8.0 and the few libraries it needs
# (tools/oracle/requirements.txt, installed without dependency resolution). Dev only.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=.venv-oracle
REQ=tools/oracle/requirements.txt
PY=${ORACLE_PYTHON:-$HOME/.pyenv/versions/3.12.1/bin/python}
if [ ! -x "$PY" ]; then
    PY=$(command -v python3.12 || command -v python3.13 || true)
fi
if [ -z "$PY" ]; then
    echo "graphon needs Python 3.12 or 3.13; set ORACLE_PYTHON" >&2
    exit 1
fi
if [ -f "$VENV/.installed" ] && cmp -s "$REQ" "$VENV/.installed"; then
    exit 0
fi
rm -rf "$VENV"
"$PY" -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check --no-deps -r "$REQ"
"$VENV/bin/python" -c "import graphon.dsl, jinja2, yaml"
cp "$REQ" "$VENV/.installed"
