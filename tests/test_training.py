"""Training: gated reward functions, GRPO and SFT with TRL on a tiny model, LoRA merge, resume, CLI."""

import json

import polars as pl
import pytest
from click.testing import CliRunner

from inftool_dagster.cli import main
from inftool_dagster.llm.backend import TransformersConfig
from inftool_dagster.llm.transformers_backend import TransformersBackend
from inftool_dagster.llm.types import SamplingParams
from inftool_dagster.training import TrainConfig, argument_reward, format_reward, name_reward, train

GOLD = json.dumps([{"name": "get_weather", "arguments": {"city": "Lisbon", "days": 3}}])


def test_rewards_are_gated_and_graded():
    completions = [
        '[get_weather(city="lisbon", days=3)]',
        '[get_weather(city="Porto", days=3)]',
        '[get_forecast(city="Lisbon")]',
        "I think it will rain.",
        '[get_weather(city="Lisbon", days=3, units="c")]',
        "[get_weather(city=",
    ]
    gold = [GOLD] * len(completions)
    fmt, names, args = (
        format_reward(completions, gold),
        name_reward(completions, gold),
        argument_reward(completions, gold),
    )
    assert fmt == [1.0, 1.0, 1.0, 0.0, 1.0, 0.0]
    assert names == [1.0, 1.0, 0.0, 0.0, 1.0, 0.0]
    assert args[0] == 1.0 and args[1] == 0.5 and args[2] == 0.0 and args[3] == 0.0 and args[5] == 0.0
    assert args[4] == pytest.approx(0.75)  # hallucinated parameter penalized
    # gold [] (irrelevance / ask first): a plain answer is right, a call is wrong
    assert format_reward(["None of these tools can do that."], ["[]"]) == [1.0]
    assert name_reward(["[get_weather(city='x')]"], ["[]"]) == [0.0]


def test_execution_reward_runs_calls_on_the_mcp_server(training_set):
    from inftool_dagster.llm.tool_calls import ToolCall, render_python
    from inftool_dagster.training.rewards import reward_functions

    frame = pl.read_parquet(training_set / "grpo_train.parquet")
    row = next(r for r in frame.iter_rows(named=True) if json.loads(r["gold_calls"]))
    gold = json.loads(row["gold_calls"])
    (execution,) = reward_functions(["execution"], str(training_set.parent / "catalog"))
    good = render_python([ToolCall(c["name"], c["arguments"]) for c in gold])
    first = gold[0]
    required = json.loads(row["tools"])
    schema = next(t["function"]["parameters"] for t in required if t["function"]["name"] == first["name"])
    missing = {k: v for k, v in first["arguments"].items() if k not in schema.get("required", [])}
    completions = [good, "[no_such_tool(x=1)]", "Sure, here you go.", render_python([ToolCall(first["name"], missing)])]
    rewards = execution(completions, [row["gold_calls"]] * len(completions))
    assert rewards[:3] == [1.0, 0.0, 0.0]
    assert rewards[3] == (0.0 if schema.get("required") else 1.0)  # invalid arguments fail on the server
    assert execution(["No tool fits that."], ["[]"]) == [1.0]
    with pytest.raises(ValueError, match="needs a tool catalog"):
        reward_functions(["execution"])
    with pytest.raises(ValueError, match="unknown reward"):
        reward_functions(["vibes"])


def test_grpo_lora_run_writes_a_loadable_checkpoint_and_resumes(training_set, tiny_dir, tmp_path):
    config = TrainConfig(
        max_steps=2,
        num_generations=2,
        prompts_per_step=1,
        max_completion_length=8,
        lora=True,
        save_steps=1,
        lora_r=4,
        catalog_dir=str(training_set.parent / "catalog"),
        reward_weights={"format": 0.2, "name": 0.2, "arguments": 0.4, "execution": 0.2},
    )
    summary = train(training_set, str(tiny_dir), tmp_path, config)
    assert summary["steps"] == 2 and summary["reward_first"] is not None and summary["seconds_per_step"] > 0
    resume_points = lambda: sorted(p.name for p in (tmp_path / "trainer").glob("checkpoint-*"))  # noqa: E731
    assert resume_points() == ["checkpoint-2"]  # save_total_limit: the newest only, not one per save
    checkpoint = tmp_path / "checkpoint"
    assert (checkpoint / "model.safetensors").exists() and (checkpoint / "tokenizer_config.json").exists()
    assert not list(checkpoint.glob("adapter_*")), "LoRA must be merged into the saved weights"
    card = (checkpoint / "README.md").read_text()
    assert "grpo + LoRA (merged)" in card and "reward per step" in card
    log = json.loads((checkpoint / "training_log.json").read_text())
    assert {
        "rewards/format_reward/mean",
        "rewards/name_reward/mean",
        "rewards/argument_reward/mean",
        "rewards/execution_reward/mean",
    } <= set(log[0])
    backend = TransformersBackend(TransformersConfig(model=str(checkpoint)))
    out = backend.generate([[{"role": "user", "content": "hi"}]], SamplingParams(max_new_tokens=3))
    assert out[0][0].ok
    # a second call with a higher step budget resumes from the last saved step
    more = train(training_set, str(tiny_dir), tmp_path, config.model_copy(update={"max_steps": 3}))
    assert more["resumed_from"].endswith("checkpoint-2") and more["steps"] == 3
    assert resume_points() == ["checkpoint-3"]


def test_sft_cli_one_json_line(training_set, tiny_dir, tmp_path):
    result = CliRunner().invoke(
        main,
        [
            "train",
            "--method",
            "sft",
            "--data",
            str(training_set),
            "--model",
            str(tiny_dir),
            "--out",
            str(tmp_path),
            "--max-steps",
            "2",
        ],
    )
    assert result.exit_code == 0, result.output[-2000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert (
        summary["steps"] == 2 and summary["loss_last"] > 0 and (tmp_path / "checkpoint" / "model.safetensors").exists()
    )


@pytest.mark.integration
def test_default_model_from_gguf_trains(training_set, tmp_path):
    """The embedded GGUF model loads dequantized but flagged quantized; training must still start."""
    summary = train(training_set, "smollm2-135m-instruct", tmp_path, TrainConfig(method="sft", max_steps=1))
    assert summary["steps"] == 1 and summary["loss_last"] > 0


def test_completion_only_logprobs_equal_trl_full_scoring():
    """The CPU fast path scores only completion tokens in TRL's fused LM head: the log-probs (and
    their gradients) of those tokens must equal TRL's every-position scoring."""
    import torch
    import trl.trainer.utils as trl_utils
    from trl.trainer.utils import add_fused_lm_head

    from inftool_dagster.compat.trl_logprobs import completion_tokens_only

    from .tiny_model import tiny_model

    model, _ = tiny_model(seed=3)
    add_fused_lm_head(model, temperature=0.7, cast_lm_head_to_fp32=False, outputs=("log_probs", "entropy"))
    ids = torch.randint(0, 1000, (3, 20))
    mask = torch.ones_like(ids)
    mask[0, :4] = 0  # left padding
    labels = ids.masked_fill(mask == 0, -100)
    labels[:, :-6] = -100  # only the last 6 tokens are the completion

    def run():
        model.zero_grad()
        out = model(input_ids=ids, attention_mask=mask, labels=labels, fused_lm_head=True)
        logps = out.log_probs[:, -6:]
        logps.sum().backward()
        return logps.detach(), out.entropy[:, -6:].detach(), model.model.layers[0].mlp.up_proj.weight.grad.clone()

    full = run()
    with completion_tokens_only():
        assert trl_utils._use_triton(torch.device("cpu"))
        fast = run()
    assert not trl_utils._use_triton(torch.device("cpu"))  # TRL's own choice is back
    reference = torch.log_softmax(model(input_ids=ids, attention_mask=mask).logits[:, -7:-1] / 0.7, -1)
    reference = reference.gather(-1, ids[:, -6:, None]).squeeze(-1).detach()
    for a, b in zip(full, fast):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(fast[0], reference, rtol=1e-4, atol=1e-5)


def test_grpo_reward_rises_on_a_tiny_task(tmp_path, tiny_dir):
    """Evidence it learns: a tiny model, SFT warm start (it begins at zero), then GRPO with the
    gated rewards on a one-tool task (copy the city from the request). The reward logged by TRL
    over the last 10 steps must clearly exceed the first 10 (measured: 0.18 → 0.29)."""
    from .tiny_task import write_tiny_task

    data = write_tiny_task(tmp_path / "data")
    sft = train(
        data,
        str(tiny_dir),
        tmp_path / "sft",
        TrainConfig(method="sft", max_steps=60, learning_rate=1e-2, save_steps=1000),
    )
    grpo = train(
        data,
        sft["checkpoint"],
        tmp_path / "grpo",
        TrainConfig(
            max_steps=40,
            learning_rate=1e-3,
            num_generations=8,
            prompts_per_step=4,
            max_completion_length=24,
            save_steps=1000,
            boundary_candidates=0,  # every prompt: this is plain GRPO learning
        ),
    )
    log = json.loads((tmp_path / "grpo" / "checkpoint" / "training_log.json").read_text())
    rewards = [h["reward"] for h in log if "reward" in h]
    assert len(rewards) == 40
    first, last = sum(rewards[:10]) / 10, sum(rewards[-10:]) / 10
    assert last > first + 0.05, (first, last, rewards)
    assert grpo["reward_first"] == rewards[0] and grpo["reward_last"] == rewards[-1]
    # the reward curve and the share of groups without reward variance, one figure per step
    assert len(grpo["rewards"]) == 40 and len(grpo["frac_reward_zero_std"]) == 40
    assert all(0.0 <= x <= 1.0 for x in grpo["frac_reward_zero_std"])
    zero_std = [h["frac_reward_zero_std"] for h in log if "frac_reward_zero_std" in h]
    assert grpo["frac_reward_zero_std"] == [round(x, 4) for x in zero_std]


def test_boundary_selection_keeps_only_groups_with_reward_variance(monkeypatch):
    """Prompts whose sampled group all agree (all right, all wrong) carry no GRPO signal and are
    left out; with none at the boundary GRPO falls back to every candidate, and says so."""
    from inftool_dagster.training import boundary

    gold = json.dumps([{"name": "get_weather", "arguments": {"city": "Paris"}}])
    right, wrong = '[get_weather(city="Paris")]', "I cannot help with that."
    groups = {"mixed": [right, wrong, right, wrong], "all_right": [right] * 4, "all_wrong": [wrong] * 4}
    monkeypatch.setattr(boundary, "sample_groups", lambda model, tok, prompts, config: [groups[p] for p in prompts])
    rows = {"prompt": ["all_right", "mixed", "all_wrong", "mixed"], "gold_calls": [gold] * 4}
    kept, stats = boundary.boundary_rows(None, None, rows, TrainConfig(boundary_candidates=4))
    assert kept == {"prompt": ["mixed", "mixed"], "gold_calls": [gold, gold]}
    assert stats | {"seconds": 0} == {
        "candidates": 4,
        "kept": 2,
        "all_same_reward": 2,
        "all_zero": 1,
        "all_full": 1,
        "mean_reward": 0.5,
        "seconds": 0,
    }
    few, stats = boundary.boundary_rows(None, None, rows, TrainConfig(boundary_candidates=2, seed=1))
    assert stats["candidates"] == 2 and len(few["prompt"]) == max(1, stats["kept"])
    flat = {"prompt": ["all_right", "all_wrong"], "gold_calls": [gold] * 2}
    kept, stats = boundary.boundary_rows(None, None, flat, TrainConfig(boundary_candidates=8))
    assert sorted(kept["prompt"]) == ["all_right", "all_wrong"] and "fallback" in stats


def test_overlong_training_prompts_are_left_out_and_counted():
    from inftool_dagster.training.datasets import within_prompt_limit as _within

    from .tiny_model import real_tokenizer

    columns = {"prompt": ["short prompt", "word " * 3000, "another short one"], "gold_calls": ["[]", "[1]", "[2]"]}
    rows, dropped = _within(real_tokenizer(), columns, max_tokens=1024)
    assert rows == {"prompt": ["short prompt", "another short one"], "gold_calls": ["[]", "[2]"]} and dropped == 1
    with pytest.raises(ValueError, match="max_prompt_tokens"):
        _within(real_tokenizer(), columns, max_tokens=1)


def test_grpo_on_an_unknown_trl_version_trains_with_trls_own_trainer(
    training_set, tiny_dir, tmp_path, unknown_versions
):
    """The fallback really runs: TRL's GRPOTrainer with its own rollouts and scoring."""
    config = TrainConfig(max_steps=1, num_generations=2, prompts_per_step=1, max_completion_length=8)
    before = dict(unknown_versions.taken)
    with pytest.warns(unknown_versions.UnknownVersionWarning):
        summary = train(training_set, str(tiny_dir), tmp_path, config)
    assert summary["steps"] == 1 and summary["reward_first"] is not None
    assert dict(unknown_versions.taken) == before  # neither the shared-prefix trainer nor the logprob patch ran


def test_sft_fast_settings_keep_trls_loss_per_token(training_set, tiny_dir, tmp_path):
    """Scoring only the loss tokens leaves SFT's loss per token as TRL computes it, step by step
    (same rows, same batches); bf16 autocast and length-grouped batches still train."""
    import math

    def losses(name, **settings):
        config = TrainConfig(method="sft", max_steps=2, learning_rate=1e-3, save_steps=1000, **settings)
        summary = train(training_set, str(tiny_dir), tmp_path / name, config)
        log = json.loads((tmp_path / name / "checkpoint" / "training_log.json").read_text())
        return summary, [h["loss"] for h in log if "loss" in h]

    _, trl = losses("trl", cpu_fast_logprobs=False, sft_bf16=False, group_by_length=False)
    _, fast = losses("fast", cpu_fast_logprobs=True, sft_bf16=False, group_by_length=False)
    assert len(trl) == 2 and all(abs(a - b) < 1e-4 * max(1.0, a) for a, b in zip(trl, fast)), (trl, fast)
    summary, grouped = losses("grouped", sft_bf16=True, group_by_length=True)
    assert summary["steps"] == 2 and all(math.isfinite(x) and x > 0 for x in grouped)


def test_whole_chat_sequences_learn_the_same_tokens_in_the_same_contexts_as_pairs(training_set):
    """A chat as one sequence with a completion mask puts the loss on exactly the tokens the
    per-step prompt/completion pairs do, each scored in the same context: the summed log-prob of
    the loss tokens is the same, from fewer tokens through the model."""
    import polars as pl
    import torch

    from inftool_dagster.training.datasets import sft_pairs, sft_sequences

    from .tiny_model import tiny_model

    model, tokenizer = tiny_model()
    frame = pl.read_parquet(training_set / "sft_train.parquet")
    frame = frame.filter(pl.col("messages").str.len_chars() < 6000).head(6)
    sequences, pairs = sft_sequences(frame, tokenizer), sft_pairs(frame, tokenizer)
    assert len(sequences["input_ids"]) == frame.height < len(pairs["prompt"])  # several steps per chat

    def logp(ids: list[int], mask: list[int]) -> float:
        with torch.no_grad():
            logits = model(torch.tensor([ids])).logits[0, :-1].float()
        scores = torch.log_softmax(logits, -1).gather(-1, torch.tensor(ids[1:])[:, None])[:, 0]
        return float((scores * torch.tensor(mask[1:], dtype=torch.float32)).sum())

    chat_logp = sum(logp(ids, mask) for ids, mask in zip(sequences["input_ids"], sequences["completion_mask"]))
    chat_tokens = sum(map(sum, sequences["completion_mask"]))
    pair_logp, pair_tokens, pair_length = 0.0, 0, 0
    for prompt, completion in zip(pairs["prompt"], pairs["completion"]):
        head = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        ids = tokenizer(prompt + completion, add_special_tokens=False)["input_ids"]
        assert ids[: len(head)] == head
        mask = [0] * len(head) + [1] * (len(ids) - len(head))
        pair_logp += logp(ids, mask)
        pair_tokens += len(ids) - len(head)
        pair_length += len(ids)
    assert chat_tokens == pair_tokens > 0
    assert abs(chat_logp - pair_logp) < 1e-3 * abs(pair_logp)
    assert sum(map(len, sequences["input_ids"])) < 0.8 * pair_length  # the shared prompt once per chat


def test_a_finished_stage_drops_its_resume_points_and_is_reused_only_for_the_same_inputs(
    training_set, tiny_dir, tmp_path
):
    import shutil

    from inftool_dagster.training.stages import train_stages

    def run(data, steps, out=tmp_path / "policy"):
        return train_stages(data, out, str(tiny_dir), {"sft": steps}, {"save_steps": 1})

    first = run(training_set, 2)
    sft = tmp_path / "policy" / "sft"
    weights = sft / "checkpoint" / "model.safetensors"
    stamp = weights.stat().st_mtime_ns
    assert first["stages"]["sft"]["steps"] == 2 and (sft / "summary.json").exists()
    assert not (sft / "trainer").exists()  # the resume points (optimizer state) are gone once the stage is done
    assert run(training_set, 2)["stages"] == first["stages"] and weights.stat().st_mtime_ns == stamp  # reused
    # other rows (a rematerialized training set) train again, from scratch: no stale resume point
    changed = tmp_path / "changed"
    shutil.copytree(training_set, changed)
    frame = pl.read_parquet(changed / "sft_train.parquet")
    frame.head(max(1, frame.height // 2)).write_parquet(changed / "sft_train.parquet")
    again = run(changed, 2)
    assert weights.stat().st_mtime_ns != stamp and again["stages"]["sft"]["steps"] == 2
    # a child stage starting from this checkpoint depends on it: retraining the parent changes its inputs
    child = lambda: train_stages(training_set, tmp_path / "child", again["checkpoint"], {"sft": 1}, {})  # noqa: E731
    child()
    child_weights = tmp_path / "child" / "sft" / "checkpoint" / "model.safetensors"
    child_stamp = child_weights.stat().st_mtime_ns
    child()
    assert child_weights.stat().st_mtime_ns == child_stamp
    run(training_set, 2)  # the parent is retrained from other rows
    child()
    assert child_weights.stat().st_mtime_ns != child_stamp
