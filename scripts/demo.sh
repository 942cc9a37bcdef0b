#!/usr/bin/env bash
# The main job on a machine without an AWS account: build ecsform, start the local AWS emulator
# (moto, on 127.0.0.1), apply topology.example.yaml, then show that a second plan has no changes.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet --disable-pip-version-check -r requirements-emulator.txt
cargo build --quiet
# Emulator state lives next to the checkout, so the demo never touches your ~/.ecsform.
export ECSFORM_STATE_DIR="${ECSFORM_STATE_DIR:-$PWD/.ecsform}"
ecsform="${CARGO_TARGET_DIR:-$PWD/target}/debug/ecsform"
"$ecsform" --local apply -f topology.example.yaml --auto-approve
"$ecsform" --local plan -f topology.example.yaml --detailed-exitcode
echo "Stop the emulator with: ECSFORM_STATE_DIR=$ECSFORM_STATE_DIR $ecsform emulator stop"
