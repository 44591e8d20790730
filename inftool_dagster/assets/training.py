"""``training_set`` → ``policy_checkpoint`` → ``bfcl_scores``: train the policy, then measure it."""

import json
import sys
from pathlib import Path

import dagster as dg
import polars as pl

from inftool_dagster.bfcl import evaluate
from inftool_dagster.llm.backend import TransformersConfig
from inftool_dagster.llm.transformers_backend import TransformersBackend
from inftool_dagster.resources import PolicyModelResource, WorkspaceResource
from inftool_dagster.training import TrainConfig
from inftool_dagster.training.heldout import heldout_eval
from inftool_dagster.training.stages import NoTrainingData, materialization_fields, train_stages

from .catalog import _table
from .gpu import gpu_op_tags
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
    out_of_process: bool = False  # run the training through Dagster Pipes (training/pipes_entry.py)


@dg.asset(partitions_def=rounds, deps=[training_set], group_name="training", kinds={"python", "pytorch"},
          op_tags=gpu_op_tags(),
          owners=OWNERS, code_version="train-v1",
          description="The round's policy: SFT warm start then GRPO with gated rewards (TRL); safetensors + card.")
def policy_checkpoint(context: dg.AssetExecutionContext, config: PolicyTrainingConfig, workspace: WorkspaceResource,
                      policy_model: PolicyModelResource,
                      pipes_client: dg.PipesSubprocessClient) -> dg.MaterializeResult:
    key = context.partition_key
    data = workspace.round_dir(key, "training_set")
    out = workspace.round_dir(key, "policy")
    model = policy_model.model
    parent = context.run.tags.get("inftool/parent_round")
    parent_checkpoint = latest_checkpoint(workspace, parent) if parent else None
    if parent_checkpoint is not None:
        model = str(parent_checkpoint)  # evolve from the previous round's policy
    steps = {"sft": config.sft_steps, "grpo": config.grpo_steps}
    settings = {"num_generations": config.num_generations, "lora": config.lora, "round_key": key,
                "max_completion_length": config.max_completion_length, "learning_rate": config.learning_rate}
    if config.out_of_process:  # Dagster Pipes: the heavy step in its own process (or pod, with another client)
        extras = {"data": str(data), "out": str(out), "model": model, "steps": steps, "settings": settings,
                  "parent_round": parent}
        return pipes_client.run(command=[sys.executable, "-m", "inftool_dagster.training.pipes_entry"],
                                context=context, extras=extras).get_materialize_result()
    try:
        result = train_stages(data, out, model, steps, settings)
    except NoTrainingData as exc:
        raise dg.Failure(str(exc)) from None
    fields = materialization_fields(result, parent)
    return dg.MaterializeResult(metadata={**fields, "checkpoint": dg.MetadataValue.path(fields["checkpoint"]),
                                          "stages": dg.MetadataValue.json(fields["stages"])})


def latest_checkpoint(workspace: WorkspaceResource, key: str) -> Path | None:
    """The checkpoint ``policy_checkpoint`` of round ``key`` ended with (None before it ran)."""
    policy = workspace.round_dir(key, "policy")
    latest = policy / "LATEST"
    return policy / latest.read_text().strip() if latest.exists() else None


class BFCLScoresConfig(dg.Config):
    categories: list[str] = ["simple_python", "multiple", "parallel", "parallel_multiple", "irrelevance"]
    limit: int = 8  # entries per category on a laptop round; 0 = all
    max_new_tokens: int = 128
    batch_size: int = 8
    prompt_format: str = "compact"  # the project's prompt, the one the policy is trained on; "bfcl": BFCL's own
    dtype: str = "float32"  # "bfloat16": faster on AVX512-BF16 CPUs and GPUs (benchmarks/bench_inference.py)
    heldout_prompts: int = 16  # held-out synthetic tools evaluated too (0: none)


@dg.asset(partitions_def=rounds, deps=[policy_checkpoint], group_name="evaluation", kinds={"python", "pytorch"},
          op_tags=gpu_op_tags(),
          owners=OWNERS, code_version="bfcl-v1",
          description="The round's policy on BFCL (pinned bfcl-eval data, verdicts equal to the official checker) "
                      "and on held-out synthetic tools.")
def bfcl_scores(context: dg.AssetExecutionContext, config: BFCLScoresConfig, workspace: WorkspaceResource,
                policy_model: PolicyModelResource) -> dg.MaterializeResult:
    key = context.partition_key
    checkpoint = str(latest_checkpoint(workspace, key))
    backend = TransformersBackend(TransformersConfig(model=checkpoint, device=policy_model.device,
                                                     batch_size=config.batch_size, dtype=config.dtype))
    out = workspace.round_dir(key, "bfcl")
    summary = evaluate(backend, config.categories, out, model_name="policy", limit=config.limit or None,
                       max_new_tokens=config.max_new_tokens, prompt_format=config.prompt_format)
    heldout_path = workspace.round_dir(key, "training_set") / "grpo_heldout.parquet"
    heldout = {"prompts": 0, "reward": None, "accuracy": None}
    if config.heldout_prompts and heldout_path.exists():
        heldout = heldout_eval(backend, pl.read_parquet(heldout_path).head(config.heldout_prompts),
                               TrainConfig().reward_weights)
    (out / "heldout.json").write_text(json.dumps(heldout, indent=1))
    table = pl.DataFrame({"category": list(summary["accuracy"]), "accuracy": list(summary["accuracy"].values())})
    return dg.MaterializeResult(metadata={
        "path": dg.MetadataValue.path(str(out)), "checkpoint": checkpoint, "entries": summary["entries"],
        "seconds": summary["seconds"], "entries_per_s": summary["entries_per_s"],
        "accuracy": dg.MetadataValue.md(_table(table)),
        "non_live_python_ast_summary": summary["summary"]["non_live_python_ast_summary"],
        "summary": dg.MetadataValue.json(summary["summary"]),
        "heldout_tool_accuracy": heldout["accuracy"], "heldout_reward": heldout["reward"],
        "heldout": dg.MetadataValue.json(heldout),
    })
