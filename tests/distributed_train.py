"""Run ``train`` with a JSON ``TrainConfig``: the script ``tests/test_distributed.py`` starts under
``accelerate launch`` (2 processes) and alone, the way a user's own training script would."""

import json
import os
import sys

from inftool_dagster.compat import taken
from inftool_dagster.training import TrainConfig, train

if __name__ == "__main__":
    data, model, out, config = sys.argv[1:5]
    summary = train(data, model, out, TrainConfig(**json.loads(config)))
    rank = int(os.environ.get("RANK", "0"))
    sys.stdout.write(json.dumps({"rank": rank, "summary": summary, "taken": dict(taken)}) + "\n")  # one write
    sys.stdout.flush()
