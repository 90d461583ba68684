#!/usr/bin/env bash
# CI: build the wheel, install it into a fresh virtualenv outside the checkout and smoke-test it
# from another directory (.ci/wheel_smoke.py). PYTHON picks the interpreter (default python3.11);
# pip's cache keeps the install quick.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3.11}"
work="$(mktemp -d /tmp/phonlap-wheel-XXXXXX)"
trap 'rm -rf "$work"' EXIT
rm -rf build  # a stale build/lib would ship files deleted since
"$PYTHON" -m pip wheel -q --no-deps -w "$work/dist" . 2>"$work/build.log" \
  || { cat "$work/build.log" >&2; exit 1; }
rm -rf build
"$PYTHON" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install -q "$work"/dist/phonlap-*.whl 2>"$work/install.log" \
  || { cat "$work/install.log" >&2; exit 1; }
cp .ci/wheel_smoke.py "$work/"
checkout="$PWD"
cd "$work" && env -u PYTHONPATH "$work/venv/bin/python" "$work/wheel_smoke.py" "$checkout"
