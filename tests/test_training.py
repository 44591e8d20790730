"""Training: gated reward functions, GRPO and SFT with TRL on a tiny model, LoRA merge, resume, CLI."""

import json

import polars as pl
import pytest
from click.testing import CliRunner

from inftool_dagster.cli import main
from inftool_dagster.llm.backend import TransformersConfig
from inftool_dagster.llm.transformers_backend import TransformersBackend
from inftool_dagster.llm.types import SamplingParams
from inftool_dagster.mcp_server import CatalogServer
from inftool_dagster.synthesis import Planner
from inftool_dagster.synthesis.trajectories import TRAJECTORY_SCHEMA
from inftool_dagster.synthesis.user_simulator import UserSimulator
from inftool_dagster.training import TrainConfig, argument_reward, format_reward, name_reward, train
from inftool_dagster.verification import verify
from inftool_dagster.verification.views import gold_trajectory_rows

GOLD = json.dumps([{"name": "get_weather", "arguments": {"city": "Lisbon", "days": 3}}])


def test_rewards_are_gated_and_graded():
    completions = ['[get_weather(city="lisbon", days=3)]', '[get_weather(city="Porto", days=3)]',
                   '[get_forecast(city="Lisbon")]', "I think it will rain.",
                   '[get_weather(city="Lisbon", days=3, units="c")]', "[get_weather(city=",]
    gold = [GOLD] * len(completions)
    fmt, names, args = (format_reward(completions, gold), name_reward(completions, gold),
                        argument_reward(completions, gold))
    assert fmt == [1.0, 1.0, 1.0, 0.0, 1.0, 0.0]
    assert names == [1.0, 1.0, 0.0, 0.0, 1.0, 0.0]
    assert args[0] == 1.0 and args[1] == 0.5 and args[2] == 0.0 and args[3] == 0.0 and args[5] == 0.0
    assert args[4] == pytest.approx(0.75)  # hallucinated parameter penalized
    # gold [] (irrelevance / ask first): a plain answer is right, a call is wrong
    assert format_reward(["None of these tools can do that."], ["[]"]) == [1.0]
    assert name_reward(["[get_weather(city='x')]"], ["[]"]) == [0.0]


@pytest.fixture(scope="module")
def training_set(tmp_path_factory, sample_build):
    root = tmp_path_factory.mktemp("trainset")
    sample_build.write(root / "catalog")
    server = CatalogServer.from_catalog(root / "catalog")
    blueprints = Planner(list(server.tools.values()), seed=0).plan(0, 48)
    user = UserSimulator({n: t.description for n, t in server.tools.items()}, None, 0)
    (root / "traj").mkdir()
    pl.DataFrame(gold_trajectory_rows(blueprints, server, user), schema=TRAJECTORY_SCHEMA).write_parquet(
        root / "traj" / "shard-00000.parquet")
    verify(root / "traj", root / "catalog", root / "views")
    return root / "views"


def test_grpo_lora_run_writes_a_loadable_checkpoint_and_resumes(training_set, tiny_dir, tmp_path):
    config = TrainConfig(max_steps=2, num_generations=2, prompts_per_step=1, max_completion_length=8, lora=True,
                         save_steps=1, lora_r=4)
    summary = train(training_set, str(tiny_dir), tmp_path, config)
    assert summary["steps"] == 2 and summary["reward_first"] is not None and summary["seconds_per_step"] > 0
    checkpoint = tmp_path / "checkpoint"
    assert (checkpoint / "model.safetensors").exists() and (checkpoint / "tokenizer_config.json").exists()
    assert not list(checkpoint.glob("adapter_*")), "LoRA must be merged into the saved weights"
    card = (checkpoint / "README.md").read_text()
    assert "grpo + LoRA (merged)" in card and "reward per step" in card
    log = json.loads((checkpoint / "training_log.json").read_text())
    assert {"rewards/format_reward/mean", "rewards/name_reward/mean", "rewards/argument_reward/mean"} <= set(log[0])
    backend = TransformersBackend(TransformersConfig(model=str(checkpoint)))
    out = backend.generate([[{"role": "user", "content": "hi"}]], SamplingParams(max_new_tokens=3))
    assert out[0][0].ok
    # a second call with a higher step budget resumes from the last saved step
    more = train(training_set, str(tiny_dir), tmp_path, config.model_copy(update={"max_steps": 3}))
    assert more["resumed_from"].endswith("checkpoint-2") and more["steps"] == 3


def test_sft_cli_one_json_line(training_set, tiny_dir, tmp_path):
    result = CliRunner().invoke(main, ["train", "--method", "sft", "--data", str(training_set), "--model",
                                       str(tiny_dir), "--out", str(tmp_path), "--max-steps", "2"])
    assert result.exit_code == 0, result.output[-2000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["steps"] == 2 and summary["loss_last"] > 0 and (tmp_path / "checkpoint" / "model.safetensors").exists()


@pytest.mark.integration
def test_default_model_from_gguf_trains(training_set, tmp_path):
    """The embedded GGUF model loads dequantized but flagged quantized; training must still start."""
    summary = train(training_set, "smollm2-135m-instruct", tmp_path, TrainConfig(method="sft", max_steps=1))
    assert summary["steps"] == 1 and summary["loss_last"] > 0
