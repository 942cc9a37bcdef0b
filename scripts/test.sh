#!/usr/bin/env bash
# The whole test suite: unit, snapshot, engine, CLI and live tests (the live tests start their
# own moto server on a free loopback port), plus the fault proxy's own tests.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet --disable-pip-version-check -r requirements-emulator.txt
cargo test --all-targets
if [ -f tools/test_faultproxy.py ]; then
  python3 tools/test_faultproxy.py
fi
