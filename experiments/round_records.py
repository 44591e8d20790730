"""What the per-round inspection scripts share: their arguments (a headline variant's home and a
round) and merging a result into a JSON record keyed by ``variant/round``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def round_arguments(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--home", type=Path, required=True, help="a headline variant's INFTOOL_HOME")
    parser.add_argument("--round", required=True)
    parser.add_argument("--record", type=Path, help="merge the result into this JSON file (keyed by home/round)")
    return parser.parse_args()


def print_and_record(args: argparse.Namespace, result: dict) -> None:
    print(json.dumps(result, indent=1))
    if args.record:
        record = json.loads(args.record.read_text()) if args.record.exists() else {}
        record[f"{args.home.name}/{args.round}"] = result
        args.record.write_text(json.dumps(record, indent=1) + "\n")
