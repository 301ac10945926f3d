#!/usr/bin/env bash
# taboot ingest against the Python recipe on a real Qdrant, side by side (see compare.py and the
# README's performance section). Builds taboot, makes a virtualenv with the pinned Python
# dependencies under .taboot/, starts Qdrant 1.19 from --qdrant-binary (or uses --qdrant-url),
# and prints a table and one JSON line. Flags go to compare.py: --count, --rounds, --read-workers...
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="${TABOOT_COMPARE_VENV:-$root/.taboot/compare-python-venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet -r "$root/scripts/compare-python/requirements.txt"
fi
(cd "$root" && npm run --silent build)
exec "$venv/bin/python" "$root/scripts/compare-python/compare.py" "$@"
