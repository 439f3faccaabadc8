#!/usr/bin/env bash
# Installs both checkers inside this folder: node_modules (npm ci, from the lock file) and a
# Python virtual environment (.venv) with the pinned requirements.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
