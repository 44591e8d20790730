"""``training_set`` → ``policy_checkpoint``: the round's policy, trained from its parent's."""

import sys

import dagster as dg

from inftool_dagster.resources import PolicyModelResource, WorkspaceResource
from inftool_dagster.training.stages import NoTrainingData, materialization_fields, train_stages

from .gpu import gpu_op_tags
from .partitions import parent_round, rounds
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
    parent = parent_round(context)
    parent_checkpoint = workspace.latest_checkpoint(parent) if parent else None
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
