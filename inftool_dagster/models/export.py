"""A round's policy as a model people can take away: a self-contained Hugging Face directory.

The round is the one with the best BFCL *dev* score (``evolution.best_round``) unless one is
named: test data never chooses the checkpoint. The directory holds the weights (safetensors),
the tokenizer with a chat template that renders tools exactly as the policy was trained
(``llm/chat_template.py``), the generation config, ``inftool_eval.json`` (the round's test-split
figures and the settings that produced them) and a model card with those figures, their
intervals, the data sources and the commands that made and re-check it. It loads with
``transformers`` and vLLM and is served by ``inftool serve``; ``inftool bfcl eval`` with the
card's command reproduces the card's numbers.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from inftool_dagster.evaluation.intervals import fmt
from inftool_dagster.evolution import best_round
from inftool_dagster.layout import RoundLayout

WEIGHTS_AND_CONFIG = ("config.json", "model.safetensors", "generation_config.json")


class ExportError(ValueError):
    pass


def _json(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


def dev_scores(home: str | Path) -> dict[str, float | None]:
    """Every round of ``home`` with its dev score (``capability_gaps``; None where not measured)."""
    rounds = Path(home) / "rounds"
    keys = sorted(p.name for p in rounds.iterdir() if p.is_dir()) if rounds.exists() else []
    return {k: _json(RoundLayout.local(home, k).gaps()).get("score") for k in keys}


def choose_round(home: str | Path, scores: dict[str, float | None]) -> str:
    """The best dev round among ``scores`` (``dev_scores(home)``)."""
    chosen = best_round(list(scores), list(scores.values()))
    if chosen is None:
        raise ExportError(f"no round under {home} has a dev score (capability_gaps): name one with --round")
    return chosen


def reproduce_command(model_dir: str | Path, test: dict, out: str = "/tmp/bfcl-recheck") -> str:
    """The ``inftool bfcl eval`` command that re-scores ``model_dir`` as the round scored its policy."""
    generation = test.get("generation", {})
    parts = [
        "inftool bfcl eval",
        f"--model {model_dir}",
        f"--split {test.get('split', 'test')}",
        f"--categories {','.join(test.get('categories', {}))}",
        f"--prompt-format {test.get('prompt_format', 'compact')}",
    ]
    if test.get("sample"):
        parts.append(f"--limit {test['sample']}")
    if generation.get("dtype"):
        parts.append(f"--dtype {generation['dtype']}")
    if generation.get("max_new_tokens"):
        parts.append(f"--max-new-tokens {generation['max_new_tokens']}")
    if generation.get("stop_after_calls") is False:
        parts.append("--no-stop-after-calls")
    if generation.get("stop_hopeless") is False:
        parts.append("--full-outputs")
    parts.append(f"--out {out}")
    return " ".join(parts)


def export_model(
    home: str | Path, out: str | Path, round_key: str | None = None, made_by: str | None = None
) -> dict[str, Any]:
    """Write round ``round_key``'s (default: the best dev round's) policy to ``out``; the export's record."""
    from transformers import AutoTokenizer

    from inftool_dagster.llm.chat_template import compact_chat_template

    home, out = Path(home), Path(out)
    scores = dev_scores(home)  # read once: the choice, the card and the base model
    key = round_key or choose_round(home, scores)
    layout = RoundLayout.local(home, key)
    checkpoint = layout.latest_checkpoint()
    if checkpoint is None or not (checkpoint / "model.safetensors").exists():
        raise ExportError(f"round {key} under {home} has no trained checkpoint")
    test = _json(layout.bfcl_summary("test"))
    if out.exists() and any(out.iterdir()):
        raise ExportError(f"{out} exists and is not empty")
    out.mkdir(parents=True, exist_ok=True)
    for name in WEIGHTS_AND_CONFIG:
        shutil.copy2(checkpoint / name, out / name)
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    tokenizer.chat_template = compact_chat_template(tokenizer.chat_template)
    tokenizer.save_pretrained(out)
    record = {
        "round": key,
        "chosen_by": "named" if round_key else "best BFCL dev score (evolution.best_round)",
        "dev_scores": scores,
        "checkpoint": str(checkpoint),
        "base_model": _base_model(home, min(scores)),
        "bfcl_test": {k: test.get(k) for k in ("split", "sample", "prompt_format", "generation", "categories")}
        | {"summaries": test.get("summaries", {})},
        "heldout": {k: v for k, v in _json(layout.heldout_scores()).items() if k in ("exact", "reward", "prompts")},
        "training_rows": _json(layout.training_summary()).get("rows_by_source", {}),
        "training": _json(layout.policy_stages()).get("stages", {}),
        "data": _data_sources(layout),
        "reproduce": reproduce_command(out, test) if test else None,
        "made_by": made_by or f"inftool export --home {home} --round {key} --out {out}",
    }
    (out / "inftool_eval.json").write_text(json.dumps(record, indent=1))
    (out / "README.md").write_text(model_card(record))
    return record


def _base_model(home: Path, first: str) -> dict:
    """The model the loop started from (round ``first``'s), with its hub id and source when embedded."""
    from inftool_dagster.models.registry import EMBEDDED

    name = _json(RoundLayout.local(home, first).policy_stages()).get("base_model", "unknown")
    embedded = EMBEDDED.get(name)
    if embedded is None:
        return {"name": name, "hub_id": name, "source": name}
    return {"name": name, "hub_id": embedded.hub_id or name, "source": f"{embedded.member} from {embedded.package}"}


def _data_sources(layout: RoundLayout) -> dict:
    import polars as pl

    catalog = layout.catalog() / "catalog.parquet"
    if not catalog.exists():
        return {}
    frame = pl.read_parquet(catalog, columns=["spec_id", "domain", "source_format"])
    return {
        "tools": frame.height,
        "specs": frame["spec_id"].n_unique(),
        "domains": frame["domain"].n_unique(),
        "formats": dict(frame.group_by("source_format").len().sort("source_format").iter_rows()),
    }


def _stages(record: dict) -> str:
    names = {"sft": "SFT", "grpo": "GRPO with gated rewards"}
    return " then ".join(names.get(k, k) for k in record.get("training", {})) or "training"


def model_card(record: dict) -> str:
    """The model card (README.md) of an export, from its record."""
    test = record["bfcl_test"]
    categories = test.get("categories") or {}
    rows = [f"| {c} | {fmt(r)} |" for c, r in categories.items()]
    rows += [f"| **{c}** | {fmt(r)} |" for c, r in (test.get("summaries") or {}).items()]
    heldout = record.get("heldout", {})
    data = record.get("data", {})
    sources = record.get("training_rows", {}).get("sft", {})
    dev = ", ".join(f"{k} {v:.3f}" if v is not None else f"{k} —" for k, v in record["dev_scores"].items())
    sample = f"a uniform sample of {test['sample']} entries per category" if test.get("sample") else "every entry"
    lines = [
        "---",
        f"base_model: {record['base_model']['hub_id']}",
        "library_name: transformers",
        "pipeline_tag: text-generation",
        "tags: [inftool, tool-calling, function-calling, bfcl]",
        "---",
        f"# inftool tool-calling policy ({record['round']})",
        "",
        f"Fine-tuned from `{record['base_model']['hub_id']}` (weights: {record['base_model']['source']}, "
        f"dequantized to float32) by inftool's closed loop (synthesized, verified tool-use "
        f"conversations from API specs; {_stages(record)}). Round {record['round']}, chosen by "
        f"{record['chosen_by']}. Dev scores by round (non-live Python AST summary): {dev}.",
        "",
        f"## BFCL, test split ({sample}; Wilson 95 % intervals, correct/total)",
        "",
        "| category | accuracy [95% CI] (correct/total) |",
        "|---|---|",
        *rows,
        "",
        f"Prompt: {test.get('prompt_format')} (the format this model was trained on; the chat template "
        f"renders it from `tools=`); generation: {json.dumps(test.get('generation', {}))}.",
        "",
        f"Held-out probe (whole API specs never trained on), exact: {fmt(heldout.get('exact'))}.",
        "",
        "## Data",
        "",
        f"- tools: {data.get('tools', '—')} from {data.get('specs', '—')} specs in {data.get('domains', '—')} "
        f"domains ({', '.join(f'{k}: {v}' for k, v in data.get('formats', {}).items())})",
        f"- SFT rows by source (this round): {json.dumps(sources)}",
        f"- training stages: {json.dumps(record.get('training', {}))}",
        "",
        "## Use",
        "",
        "```python",
        "from transformers import AutoModelForCausalLM, AutoTokenizer",
        "",
        "tok = AutoTokenizer.from_pretrained(PATH)",
        "model = AutoModelForCausalLM.from_pretrained(PATH)",
        "prompt = tok.apply_chat_template(messages, tools=tools, add_generation_prompt=True, tokenize=False)",
        '# the answer is a Python call list: [get_weather(city="Paris")]',
        "```",
        "",
        "Serve it with an OpenAI-compatible API: `inftool serve --model PATH` (or `vllm serve PATH`).",
        "",
        "## Reproduce",
        "",
        f"- made by: `{record['made_by']}`",
        f"- re-score: `{record.get('reproduce')}`",
        "",
    ]
    return "\n".join(lines)
