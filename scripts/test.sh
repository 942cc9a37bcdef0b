#!/usr/bin/env bash
# The whole test suite: unit, snapshot, engine, CLI and live tests (the live tests start their
# own moto server on a free loopback port, behind the contract proxy that checks every request
# against AWS's published service models), plus the proxy's and the validator's own tests.
# ECSFORM_CONTRACT=0 skips the contract check (to measure what it costs).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet --disable-pip-version-check -r requirements-emulator.txt
reports="${CARGO_TARGET_DIR:-target}/contract-reports"
rm -rf "$reports"
mkdir -p "$reports"
export ECSFORM_CONTRACT_REPORT_DIR="$PWD/$reports"
case "$reports" in /*) export ECSFORM_CONTRACT_REPORT_DIR="$reports" ;; esac
cargo test --all-targets
python3 tools/test_faultproxy.py
python3 tools/test_contract.py
if [ "${ECSFORM_CONTRACT:-1}" != 0 ]; then
  # Every request the suite sent, checked: totals per service, and a failure if any violated.
  python3 tools/contract.py summary "$ECSFORM_CONTRACT_REPORT_DIR"
fi
