#!/usr/bin/env bash
# Validates every *.json file of a folder as FHIR R4 with two independent checkers:
# the official HL7 R4 JSON schema (node) and the fhir.resources R4 models with the
# specification's invariants (python). Install first with ./setup.sh.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dir="${1:?usage: validate.sh <folder of FHIR JSON files>}"
status=0
node "$here/validate.js" "$dir" || status=1
"$here/.venv/bin/python" "$here/validate.py" "$dir" || status=1
exit "$status"
