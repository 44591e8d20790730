"""The Dagster code location: ``dagster dev -m inftool_dagster.definitions``."""

import dagster as dg

from inftool_dagster.assets.catalog import (
    api_specs,
    catalog_descriptions_present,
    catalog_names_unique,
    catalog_schemas_valid,
    catalog_served_over_mcp,
    tool_catalog,
)
from inftool_dagster.assets.evaluation import (
    bfcl_dev_failures_bounded,
    bfcl_dev_scores,
    bfcl_test_failures_bounded,
    bfcl_test_scores,
    heldout_failures_bounded,
    heldout_scores,
    policy_yield,
    round_report,
)
from inftool_dagster.assets.evolution import capability_gaps, evolution_sensor, nightly_evolution
from inftool_dagster.assets.partitions import ROUND_JOB
from inftool_dagster.assets.probe import heldout_probe
from inftool_dagster.assets.synthesis import plan_has_no_heldout_twins, scenario_plan, synthetic_trajectories
from inftool_dagster.assets.training import policy_checkpoint
from inftool_dagster.assets.tree import tool_tree, tree_covers_catalog
from inftool_dagster.assets.verification import (
    training_set,
    training_set_no_bfcl_leak,
    training_split_disjoint,
    trajectories_quality,
    verified_quality,
    verified_trajectories,
)
from inftool_dagster.deployment import round_executor
from inftool_dagster.resources import (
    DataQualityResource,
    EvolutionResource,
    PolicyModelResource,
    SpecSourcesResource,
    WorkspaceResource,
)

# One round in dependency order (a killed round resumes at its first unmaterialized asset). The
# loop's decisions (capability_gaps) come before the test-side leaves, which nothing reads.
ROUND_ASSETS = [
    tool_catalog,
    tool_tree,
    heldout_probe,
    scenario_plan,
    synthetic_trajectories,
    verified_trajectories,
    training_set,
    policy_checkpoint,
    bfcl_dev_scores,
    capability_gaps,
    bfcl_test_scores,
    heldout_scores,
    policy_yield,
    round_report,
]

round_job = dg.define_asset_job(
    ROUND_JOB,
    selection=dg.AssetSelection.assets(*ROUND_ASSETS),
    executor_def=round_executor(),
    description="One round of the loop, in dependency order.",
)

defs = dg.Definitions(
    assets=[api_specs, *ROUND_ASSETS],
    asset_checks=[
        catalog_schemas_valid,
        catalog_names_unique,
        catalog_descriptions_present,
        catalog_served_over_mcp,
        tree_covers_catalog,
        plan_has_no_heldout_twins,
        trajectories_quality,
        verified_quality,
        training_split_disjoint,
        training_set_no_bfcl_leak,
        bfcl_dev_failures_bounded,
        bfcl_test_failures_bounded,
        heldout_failures_bounded,
    ],
    jobs=[round_job],
    sensors=[evolution_sensor],
    schedules=[nightly_evolution],
    resources={
        "workspace": WorkspaceResource(),
        "spec_sources": SpecSourcesResource(),
        "policy_model": PolicyModelResource(),
        "data_quality": DataQualityResource(),
        "evolution": EvolutionResource(),
        "pipes_client": dg.PipesSubprocessClient(),
    },
)
