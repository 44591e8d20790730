"""Why a round's BFCL dev answers fail: error kinds per category (the gap rule's kinds,
``evolution.gaps.error_kind``) and how many wrong function names are the offered dotted name
written only up to a dot (``capacitance_calculator`` for ``capacitance_calculator.calculate``).
Dev split only: what it finds may steer training.

    .venv/bin/python experiments/dev_failures.py --home .experiments/headline/loop --round r0002 \
        [--record docs/bench/dev_failures.json]
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

from round_records import print_and_record, round_arguments  # this directory is on sys.path as a script

from inftool_dagster.evolution.gaps import dev_results, error_kind

_WANTED = re.compile(r"Function name '([^']+)' not found")
_CALLED = re.compile(r"([A-Za-z_][\w.]*)\s*\(")


def cut_at_dot(entry: dict) -> bool:
    """The wanted name is dotted and the output calls a dot-free prefix of it instead."""
    wanted = _WANTED.search(" ".join(map(str, entry.get("error") or [])))
    if not wanted or "." not in wanted.group(1):
        return False
    parts = wanted.group(1).split(".")
    prefixes = {".".join(parts[:i]) for i in range(1, len(parts))}
    return bool(prefixes & set(_CALLED.findall(str(entry.get("model_result_raw") or ""))))


def failures(score_dir: Path) -> dict:
    out = {}
    for path in sorted(score_dir.glob("BFCL_v4_*_score.json")):
        lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        header, entries = lines[0], lines[1:]
        category = path.name[len("BFCL_v4_") : -len("_score.json")]
        out[category] = {
            "correct": header.get("correct_count"),
            "total": header.get("total_count"),
            "kinds": dict(Counter(error_kind(e.get("error_type", "")) for e in entries).most_common()),
            "name_cut_at_dot": sum(map(cut_at_dot, entries)),
        }
    return out


def main() -> None:
    args = round_arguments(__doc__.split("\n\n")[0])
    from inftool_dagster.layout import RoundLayout

    bfcl_dir = RoundLayout.local(args.home, args.round).bfcl("dev")
    score_dir, summary = dev_results(bfcl_dir)  # raises unless it is the dev split
    if score_dir is None:
        raise SystemExit(f"no BFCL dev results under {bfcl_dir}")
    result = {"split": summary["split"], "sample": summary.get("sample"), "categories": failures(score_dir)}
    print_and_record(args, result)


if __name__ == "__main__":
    main()
