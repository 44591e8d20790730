"""``training_set`` → ``policy_checkpoint``: the round's policy, trained from its parent's."""

import sys

import dagster as dg

from inftool_dagster.deployment import gpu_op_tags
from inftool_dagster.layout import parent_inputs
from inftool_dagster.resources import PolicyModelResource, WorkspaceResource
from inftool_dagster.training.config import RoundTraining
from inftool_dagster.training.stages import NoTrainingData, materialization_fields, train_stages

from .partitions import parent_layout, rounds
from .verification import training_set

OWNERS = ["team:inftool-training"]


class PolicyTrainingConfig(dg.Config, RoundTraining):
    """The domain's ``RoundTraining`` (steps, trainer settings) and where the step runs."""

    out_of_process: bool = False  # run the training through Dagster Pipes (training/pipes_entry.py)


@dg.asset(
    partitions_def=rounds,
    deps=[training_set],
    group_name="training",
    kinds={"python", "pytorch"},
    op_tags=gpu_op_tags(),
    owners=OWNERS,
    code_version="train-v1",
    description="The round's policy: SFT warm start then GRPO with gated rewards (TRL); safetensors + card.",
)
def policy_checkpoint(
    context: dg.AssetExecutionContext,
    config: PolicyTrainingConfig,
    workspace: WorkspaceResource,
    policy_model: PolicyModelResource,
    pipes_client: dg.PipesSubprocessClient,
) -> dg.MaterializeResult:
    key = context.partition_key
    data = workspace.round(key).training_set()
    out = workspace.round(key).policy()
    model = policy_model.model
    parent = parent_layout(context, workspace)
    parent_checkpoint = parent.latest_checkpoint() if parent else None
    if parent_checkpoint is not None:
        model = str(parent_checkpoint)  # evolve from the previous round's policy
    steps, settings = config.steps(), config.settings(key)
    if config.out_of_process:  # Dagster Pipes: the heavy step in its own process (or pod, with another client)
        extras = {
            "data": str(data),
            "out": str(out),
            "model": model,
            "steps": steps,
            "settings": settings,
            "parent": parent_inputs(parent),
        }
        return pipes_client.run(
            command=[sys.executable, "-m", "inftool_dagster.training.pipes_entry"], context=context, extras=extras
        ).get_materialize_result()
    try:
        result = train_stages(data, out, model, steps, settings)
    except NoTrainingData as exc:
        raise dg.Failure(str(exc)) from None
    fields = materialization_fields(result, parent_inputs(parent))
    return dg.MaterializeResult(
        metadata={
            **fields,
            "checkpoint": dg.MetadataValue.path(fields["checkpoint"]),
            "stages": dg.MetadataValue.json(fields["stages"]),
            "reward_curve": dg.MetadataValue.json(fields["reward_curve"]),
            "frac_reward_zero_std": dg.MetadataValue.json(fields["frac_reward_zero_std"]),
            "boundary": dg.MetadataValue.json(fields["boundary"]),
        }
    )
