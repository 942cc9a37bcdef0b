#!/usr/bin/env python3
"""Checks topology files against ecsform's JSON Schema the way an editor's YAML language server
does: `check_schema.py SCHEMA (+FILE | -FILE)...` — `+` must validate, `-` must not. Prints
one line per file; exits 1 if any file is judged otherwise."""
import json
import sys

import jsonschema
import yaml


def main(argv):
    schema = json.load(open(argv[1]))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    wrong = 0
    for arg in argv[2:]:
        expect_valid, path = arg[0] == "+", arg[1:]
        errors = list(validator.iter_errors(yaml.safe_load(open(path, encoding="utf-8"))))
        ok = (not errors) == expect_valid
        wrong += not ok
        first = errors[0].message if errors else "valid"
        print(f"{'ok' if ok else 'WRONG'} {path}: {first}")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
