"""Does the exported model reproduce its card? Exports the best dev round of a headline variant
(``inftool export``), re-scores the export with the card's own command (``inftool bfcl eval``)
unless ``--recheck`` already holds that run, and compares the re-run with the round's figures,
per category and output by output. Writes ``docs/bench/export_check.json`` and a copy of the
card, ``docs/model_card.md``.

    .venv/bin/python experiments/export_check.py [--home .experiments/headline/loop] [--out .experiments/export]
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def results(directory: Path, category: str) -> list[str]:
    path = next(directory.glob(f"result/*/BFCL_v4_{category}_result.json"))
    return [json.loads(line)["result"] for line in path.read_text().splitlines()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", default=str(ROOT / ".experiments" / "headline" / "loop"))
    parser.add_argument("--out", default=str(ROOT / ".experiments" / "export"))
    parser.add_argument("--recheck", default=str(ROOT / ".experiments" / "recheck"))
    args = parser.parse_args()
    out, recheck = Path(args.out), Path(args.recheck)
    inftool = str(Path(sys.executable).parent / "inftool")
    if not (out / "inftool_eval.json").exists():
        subprocess.run([inftool, "export", "--home", args.home, "--out", str(out)], check=True)
    record = json.loads((out / "inftool_eval.json").read_text())
    command = record["reproduce"].replace("/tmp/bfcl-recheck", str(recheck))
    if not (recheck / "summary.json").exists():
        subprocess.run([inftool, *shlex.split(command)[1:]], check=True)
    card = json.loads((Path(args.home) / "rounds" / record["round"] / "bfcl" / "test" / "summary.json").read_text())
    again = json.loads((recheck / "summary.json").read_text())
    round_dir = Path(args.home) / "rounds" / record["round"] / "bfcl" / "test"
    categories = {}
    for category, figures in card["categories"].items():
        first, second = results(round_dir, category), results(recheck, category)
        categories[category] = {
            "card": f"{figures['correct']}/{figures['total']}",
            "rerun": f"{again['categories'][category]['correct']}/{again['categories'][category]['total']}",
            "outputs_identical": sum(a == b for a, b in zip(first, second)),
            "outputs": len(first),
        }
    check = {
        "round": record["round"],
        "chosen_by": record["chosen_by"],
        "dev_scores": record["dev_scores"],
        "command": command,
        "categories": categories,
        "reproduced": all(v["card"] == v["rerun"] for v in categories.values()),
        "made_by": "experiments/export_check.py " + " ".join(sys.argv[1:]),
    }
    (ROOT / "docs" / "bench" / "export_check.json").write_text(json.dumps(check, indent=1))
    (ROOT / "docs" / "model_card.md").write_text((out / "README.md").read_text())
    print(json.dumps({k: check[k] for k in ("round", "reproduced")} | {"categories": categories}, indent=1))


if __name__ == "__main__":
    main()
