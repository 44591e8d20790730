"""How SFT rows show their tools (training/tool_docs.py): shorter documents that keep every gold
call valid, and dotted names renamed the same way everywhere in a row."""

import json

import jsonschema
import polars as pl
import pytest

from inftool_dagster.llm.prompts import call_arguments
from inftool_dagster.llm.prompts import function_doc as _fn
from inftool_dagster.training.tool_docs import ToolRendering, dotted, fewer_optional, trim, trimmed_tools


def _rows(training_set) -> list[tuple[str, list[dict], list[dict]]]:
    frame = pl.read_parquet(training_set / "sft_train.parquet")
    return [
        (r["trajectory_id"], json.loads(r["messages"]), json.loads(r["tools"])) for r in frame.iter_rows(named=True)
    ]


def _calls(messages: list[dict]) -> list[tuple[str, dict]]:
    return [
        (c["function"]["name"], call_arguments(c["function"]["arguments"]))
        for m in messages
        for c in m.get("tool_calls") or []
    ]


def test_trim_keeps_the_first_sentence_or_whole_words():
    assert trim("Find a park. Results are paged by cursor.", 30) == "Find a park."
    assert trim("Short enough.", 30) == "Short enough."
    cut = trim("Returns every invoice of the account between two dates inclusive", 30)
    assert cut.endswith("…") and len(cut) <= 31 and "Returns every invoice" in cut
    assert trim("Whole text kept", 0) == "Whole text kept"


def test_shorter_documents_keep_every_gold_call_valid(training_set):
    """Fewer optional parameters and cut descriptions: required and used parameters stay, the
    others are capped, and each gold call still validates against the tool as shown."""
    capped = 0
    for _, messages, tools in _rows(training_set):
        shown = {_fn(t)["name"]: _fn(t) for t in fewer_optional(trimmed_tools(tools, 60), messages, 1)}
        whole = {_fn(t)["name"]: _fn(t) for t in tools}
        for name, fn in shown.items():
            props, before = fn["parameters"].get("properties", {}), whole[name]["parameters"].get("properties", {})
            required = set(whole[name]["parameters"].get("required") or [])
            assert required <= set(props) <= set(before)
            capped += len(props) < len(before)
            assert len(fn.get("description") or "") <= 61
        for name, arguments in _calls(messages):
            assert set(arguments) <= set(shown[name]["parameters"].get("properties", {}))
            jsonschema.validate(arguments, shown[name]["parameters"])
    assert capped > 0  # the fixture's tools have more optional parameters than one


def test_dotted_names_are_renamed_the_same_everywhere_in_a_row(training_set):
    assert dotted("inspector_add_tags") == "inspector.add_tags"
    assert dotted("get") == "get" and dotted("a__b") == "a__b"
    rendering = ToolRendering(dotted_share=0.5)
    rows = _rows(training_set)
    renamed = 0
    for row_id, messages, tools in rows:
        shown_messages, shown_tools = rendering.apply(row_id, messages, tools)
        names = {_fn(t)["name"] for t in shown_tools}
        assert len(names) == len(tools)
        assert all(name in names for name, _ in _calls(shown_messages))
        assert [m.get("name") for m in shown_messages if m["role"] == "tool"] == [
            dotted(m.get("name")) if rendering.renames(row_id, tools) else m.get("name")
            for m in messages
            if m["role"] == "tool"
        ]
        if rendering.renames(row_id, tools):
            renamed += 1
            assert any("." in n for n in names)
            assert [a for _, a in _calls(shown_messages)] == [a for _, a in _calls(messages)]
        else:
            assert (shown_messages, shown_tools) == (messages, tools)
    assert 0.25 * len(rows) < renamed < 0.75 * len(rows)


def test_sft_sequences_learn_the_dotted_name_the_prompt_shows(training_set):
    """The rendered chat offers the dotted name in its function list and the loss falls on it."""
    from inftool_dagster.training.datasets import sft_sequences

    from .tiny_model import tiny_model

    _, tokenizer = tiny_model()
    frame = pl.read_parquet(training_set / "sft_train.parquet")
    rendering = ToolRendering(dotted_share=1.0, optional_params=0)
    frame = frame.filter(pl.col("messages").str.contains('"tool_calls"')).head(4)
    plain, shown = sft_sequences(frame, tokenizer), sft_sequences(frame, tokenizer, rendering)
    assert sum(map(len, shown["input_ids"])) < sum(map(len, plain["input_ids"]))
    checked = 0
    for ids, mask, row in zip(shown["input_ids"], shown["completion_mask"], frame.iter_rows(named=True)):
        name = _calls(json.loads(row["messages"]))[0][0]
        if dotted(name) == name:
            continue
        first = mask.index(1)
        assert dotted(name) in tokenizer.decode(ids[:first])  # offered in the function list
        assert dotted(name) in tokenizer.decode([t for t, m in zip(ids, mask) if m])  # and learnt
        assert name not in tokenizer.decode(ids)
        checked += 1
    assert checked


@pytest.mark.parametrize("field", ["tool_doc_chars", "tool_optional_params", "dotted_name_share", "sft_batch_size"])
def test_round_training_passes_the_rendering_to_the_trainer(field):
    from inftool_dagster.training.config import RoundTraining, TrainConfig
    from inftool_dagster.training.sft import tool_rendering

    value = {"tool_doc_chars": 120, "tool_optional_params": 2, "dotted_name_share": 0.3, "sft_batch_size": 8}[field]
    settings = RoundTraining(**{field: value}).settings("r0000")
    config = TrainConfig(method="sft", **settings)
    assert getattr(config, field) == value
    rendering = tool_rendering(config)
    assert (rendering.description_chars, rendering.optional_params, rendering.dotted_share) == (
        config.tool_doc_chars,
        config.tool_optional_params,
        config.dotted_name_share,
    )
