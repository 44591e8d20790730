"""``training_set`` → ``policy_checkpoint`` → ``bfcl_scores``: train the policy, then measure it."""

import json

import dagster as dg
import polars as pl

from inftool_dagster.bfcl import evaluate
from inftool_dagster.llm.backend import TransformersConfig
from inftool_dagster.llm.transformers_backend import TransformersBackend
from inftool_dagster.resources import PolicyModelResource, WorkspaceResource
from inftool_dagster.training import TrainConfig, train

from .catalog import _table
from .partitions import rounds
from .verification import training_set

OWNERS = ["team:inftool-training"]


class PolicyTrainingConfig(dg.Config):
    sft_steps: int = 10  # warm start on the SFT chats (a base model starts near zero reward)
    grpo_steps: int = 2
    num_generations: int = 4
    max_completion_length: int = 48
    lora: bool = False
    learning_rate: float = 1e-5


@dg.asset(partitions_def=rounds, deps=[training_set], group_name="training", kinds={"python", "pytorch"},
          owners=OWNERS, code_version="train-v1",
          description="The round's policy: SFT warm start then GRPO with gated rewards (TRL); safetensors + card.")
def policy_checkpoint(context: dg.AssetExecutionContext, config: PolicyTrainingConfig, workspace: WorkspaceResource,
                      policy_model: PolicyModelResource) -> dg.MaterializeResult:
    key = context.partition_key
    data = workspace.round_dir(key, "training_set")
    out = workspace.round_dir(key, "policy")
    model = policy_model.model
    parent = context.run.tags.get("inftool/parent_round")
    parent_latest = workspace.base() / "rounds" / parent / "policy" / "LATEST" if parent else None
    if parent_latest is not None and parent_latest.exists():
        model = parent_latest.read_text().strip()  # evolve from the previous round's policy
    base_model = model
    stages = {}
    for method, steps in (("sft", config.sft_steps), ("grpo", config.grpo_steps)):
        if steps <= 0:
            continue
        frame = pl.read_parquet(data / f"{method}_train.parquet")
        if frame.is_empty():
            context.log.warning(f"no {method} training rows; stage skipped")
            continue
        summary = train(data, model, out / method, TrainConfig(
            method=method, max_steps=steps, num_generations=config.num_generations, lora=config.lora,
            max_completion_length=config.max_completion_length, learning_rate=config.learning_rate, round_key=key))
        context.log.info(f"{method}: {summary}")
        stages[method] = summary
        model = summary["checkpoint"]
    if not stages:
        raise dg.Failure("no training data: both the SFT and the GRPO views are empty")
    (out / "LATEST").write_text(model)
    grpo = stages.get("grpo", {})
    return dg.MaterializeResult(metadata={
        "checkpoint": dg.MetadataValue.path(model), "base_model": base_model, "parent_round": parent or "none",
        "stages": dg.MetadataValue.json({m: {k: s[k] for k in ("steps", "seconds_per_step", "reward_first",
                                                                  "reward_last", "loss_last")} for m, s in stages.items()}),
        "reward_first": grpo.get("reward_first"), "reward_last": grpo.get("reward_last"),
    })


class BFCLScoresConfig(dg.Config):
    categories: list[str] = ["simple_python", "multiple", "parallel", "parallel_multiple", "irrelevance"]
    limit: int = 8  # entries per category on a laptop round; 0 = all
    max_new_tokens: int = 128
    batch_size: int = 8
    prompt_format: str = "bfcl"  # "compact": the project's prompt, the one the policy is trained on


@dg.asset(partitions_def=rounds, deps=[policy_checkpoint], group_name="evaluation", kinds={"python", "pytorch"},
          owners=OWNERS, code_version="bfcl-v1",
          description="The round's policy on BFCL (pinned bfcl-eval data, verdicts equal to the official checker).")
def bfcl_scores(context: dg.AssetExecutionContext, config: BFCLScoresConfig, workspace: WorkspaceResource,
                policy_model: PolicyModelResource) -> dg.MaterializeResult:
    key = context.partition_key
    checkpoint = (workspace.round_dir(key, "policy") / "LATEST").read_text().strip()
    backend = TransformersBackend(TransformersConfig(model=checkpoint, device=policy_model.device,
                                                     batch_size=config.batch_size))
    out = workspace.round_dir(key, "bfcl")
    summary = evaluate(backend, config.categories, out, model_name="policy", limit=config.limit or None,
                       max_new_tokens=config.max_new_tokens, prompt_format=config.prompt_format)
    table = pl.DataFrame({"category": list(summary["accuracy"]), "accuracy": list(summary["accuracy"].values())})
    return dg.MaterializeResult(metadata={
        "path": dg.MetadataValue.path(str(out)), "checkpoint": checkpoint, "entries": summary["entries"],
        "seconds": summary["seconds"], "entries_per_s": summary["entries_per_s"],
        "accuracy": dg.MetadataValue.md(_table(table)),
        "non_live_python_ast_summary": summary["summary"]["non_live_python_ast_summary"],
        "summary": dg.MetadataValue.json(summary["summary"]),
    })
