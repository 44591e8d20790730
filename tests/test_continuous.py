"""The continuous-batching decoder: greedy tokens equal ``generate`` row by row, whatever the slot
count, refill order, prefix sharing, chunked prefill or tier; rows end on their own; sampling is
seeded and filters like transformers; the backend and call-list stop use it."""

import pytest
import torch

from inftool_dagster.llm.continuous import ContinuousDecoder, DecodeSettings, _select, supports
from inftool_dagster.llm.tool_calls import call_list_end
from inftool_dagster.llm.types import SamplingParams

from .tiny_model import tiny_backend, tiny_model


def _alone(model, row, max_new, eos):
    """Plain ``generate`` on one unpadded row, cut after the first end token."""
    ids = torch.tensor([row])
    out = model.generate(
        input_ids=ids,
        attention_mask=torch.ones_like(ids),
        max_new_tokens=max_new,
        do_sample=False,
        eos_token_id=sorted(eos),
        pad_token_id=0,
    )[0, len(row) :].tolist()
    end = next((k for k, t in enumerate(out) if t in eos), None)
    return out[: end + 1] if end is not None else out


def _rows(tok, n=14):
    system = tok(
        "You are a function-calling assistant. Functions: get_weather(city: string). " * 3, add_special_tokens=False
    )["input_ids"]
    questions = [
        "What is the weather in Paris?",
        "hi",
        "Area of a triangle with base 3 and height 4",
        "Weather in Berlin and in Rome, please, for tomorrow morning",
    ]
    rows = [system + tok(f"{questions[i % 4]} ({i})", add_special_tokens=False)["input_ids"] for i in range(n)]
    return rows + [[5, 6, 7], [9] * 300]  # no shared prefix with the rest; a long row in its own tier


@pytest.fixture(scope="module")
def model_and_rows():
    model, tok = tiny_model(seed=5, layers=3)
    rows = _rows(tok)
    # end tokens the model really emits, so rows finish at different steps
    first = _alone(model, rows[0], 12, set())
    eos = {next(t for t in first if t != first[0]), tok.eos_token_id}
    return model, rows, eos


@pytest.mark.parametrize(
    "slots,prefill_tokens,cache_tokens", [(3, 4096, 65536), (32, 4096, 65536), (4, 16, 65536), (4, 4096, 400)]
)
def test_greedy_equals_generate_row_by_row(model_and_rows, slots, prefill_tokens, cache_tokens):
    """Few or many slots, prefill in 16-token chunks, and a cache budget that forces runs of
    fewer slots for the long row."""
    model, rows, eos = model_and_rows
    decoder = ContinuousDecoder(model, slots=slots, prefill_tokens=prefill_tokens, max_cache_tokens=cache_tokens)
    if cache_tokens == 400:
        order = sorted(range(len(rows)), key=lambda i: len(rows[i]))
        assert len(decoder._tiers(order, rows, 20, [1] * len(rows))) > 1
    outputs = decoder.generate(rows, DecodeSettings(max_new_tokens=20, eos_ids=frozenset(eos)))
    expected = [_alone(model, r, 20, eos) for r in rows]
    assert [o[0].tokens for o in outputs] == expected
    lengths = {len(e) for e in expected}
    assert len(lengths) > 2  # rows really end at different steps (refill is exercised)
    assert [o[0].stopped for o in outputs] == [e[-1] in eos for e in expected]


def test_copies_share_one_prefill_and_match_greedy(model_and_rows):
    model, rows, eos = model_and_rows
    outputs = ContinuousDecoder(model, slots=5).generate(rows[:3], DecodeSettings(16, frozenset(eos)), copies=[3, 1, 4])
    assert [len(o) for o in outputs] == [3, 1, 4]
    for row, samples in zip(rows[:3], outputs):
        assert all(s.tokens == _alone(model, row, 16, eos) for s in samples)


def test_sampling_is_seeded_and_varies_within_a_group(model_and_rows):
    model, rows, eos = model_and_rows
    settings = DecodeSettings(12, frozenset(eos), temperature=1.0, top_p=0.95, seed=7)
    first = ContinuousDecoder(model, slots=4).generate(rows[:2], settings, copies=[4, 4])
    again = ContinuousDecoder(model, slots=4).generate(rows[:2], settings, copies=[4, 4])
    assert [[s.tokens for s in g] for g in first] == [[s.tokens for s in g] for g in again]
    assert len({tuple(s.tokens) for s in first[0]}) > 1


def test_top_p_filter_matches_transformers():
    from transformers.generation.logits_process import TemperatureLogitsWarper, TopPLogitsWarper

    torch.manual_seed(0)
    logits = torch.randn(5, 50) * 3
    ours = []
    for seed in range(30):
        generator = torch.Generator().manual_seed(seed)
        ours.append(_select(logits, DecodeSettings(1, frozenset(), temperature=0.7, top_p=0.8), generator))
    reference = TopPLogitsWarper(0.8)(None, TemperatureLogitsWarper(0.7)(None, logits.clone()))
    allowed = torch.isfinite(reference)
    for picked in ours:  # every sampled token is inside transformers' nucleus
        assert allowed[torch.arange(5), picked].all()
    assert len({tuple(p.tolist()) for p in ours}) > 1


def test_a_stop_rule_ends_a_row(model_and_rows):
    model, rows, _ = model_and_rows
    settings = DecodeSettings(20, frozenset(), stop=lambda tokens: len(tokens) >= 3)
    outputs = ContinuousDecoder(model, slots=4).generate(rows[:5], settings)
    assert all(len(o[0].tokens) == 3 and o[0].stopped for o in outputs)


def test_backend_continuous_texts_equal_generate_texts():
    convs = [
        [{"role": "user", "content": q}]
        for q in ["Weather in Oslo?", "Book a table for two at eight.", "Why?", "Convert 3 miles to km", "hello there"]
    ]
    tools = [
        [
            {
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "description": "Weather for a city",
                    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
                },
            }
        ]
    ] * 5
    params = SamplingParams(max_new_tokens=12)
    fast = tiny_backend(slots=2)
    assert fast.decoder == "continuous"
    plain = tiny_backend(decoder="generate", batch_size=2, shared_prefix=False)
    got, want = fast.generate(convs, params, tools), plain.generate(convs, params, tools)
    assert [g[0].text for g in got] == [g[0].text for g in want]
    assert [g[0].completion_tokens for g in got] == [g[0].completion_tokens for g in want]
    assert [g[0].finish_reason for g in got] == [g[0].finish_reason for g in want]


def test_unsupported_architecture_uses_generate():
    from transformers import GPT2Config, GPT2LMHeadModel

    from inftool_dagster.llm.backend import TransformersConfig
    from inftool_dagster.llm.transformers_backend import TransformersBackend

    from .tiny_model import real_tokenizer

    model = GPT2LMHeadModel(GPT2Config(vocab_size=len(real_tokenizer()), n_embd=32, n_layer=1, n_head=2)).eval()
    assert not supports(model)
    backend = TransformersBackend(TransformersConfig(model="gpt2-tiny"), model=model, tokenizer=real_tokenizer())
    assert backend.decoder == "generate"
    [[generation]] = backend.generate([[{"role": "user", "content": "hi"}]], SamplingParams(max_new_tokens=3))
    assert generation.ok and generation.completion_tokens <= 3


@pytest.mark.parametrize(
    "text,end",
    [
        ("[f(a=1)]", 8),
        ('  [f(a="x]"), g(b=[1, 2])] tail', 26),
        ("[f(a=1)", None),
        ("Sure [f()]", None),
        ("[f(a='''x)]''')]!", 16),
        ('[f(a="\\"]")]x', 12),
        ("```[f()]", 8),
        ("", None),
    ],
)
def test_call_list_end(text, end):
    assert call_list_end(text) == end


def test_text_stop_rule_ends_rows_at_a_closed_call_list_stop_strings_and_predicates():
    from inftool_dagster.llm.transformers_backend import _text_stop

    from .tiny_model import real_tokenizer

    tok = real_tokenizer()
    ids = lambda text: tok(text, add_special_tokens=False)["input_ids"]  # noqa: E731
    assert _text_stop(tok, SamplingParams()) is None  # nothing to check: no per-step decoding
    calls = _text_stop(tok, SamplingParams(stop_after_calls=True))
    assert calls(ids('[get_weather(city="Oslo")]')) and not calls(ids('[get_weather(city="Oslo"'))
    assert not calls(ids("The weather is [fine]")[:3])
    strings = _text_stop(tok, SamplingParams(stop=["###"]))
    assert strings(ids("abc ### d")) and not strings(ids("abc"))
    early = _text_stop(tok, SamplingParams(stop_when=lambda text: text.startswith("Sure")))
    assert early(ids("Sure, here")) and not early(ids("[f()]"))


def test_bf16_rollout_copy_follows_the_training_weights():
    from inftool_dagster.compat.trl_grpo import SharedPrefixGRPOTrainer

    model, _ = tiny_model(seed=3)
    trainer = SharedPrefixGRPOTrainer.__new__(SharedPrefixGRPOTrainer)
    assert trainer._rollout_model(model) is model  # float32 rollouts: the policy itself
    trainer.rollout_dtype = "bfloat16"
    copy = trainer._rollout_model(model)
    assert copy is not model and copy.dtype == torch.bfloat16 and model.dtype == torch.float32
    with torch.no_grad():  # an optimizer step on the policy
        for p in model.parameters():
            p.add_(0.5)
    assert trainer._rollout_model(model) is copy  # refreshed in place, not rebuilt
    for (name, fresh), (_, source) in zip(copy.named_parameters(), model.named_parameters()):
        assert torch.allclose(fresh.float(), source, rtol=1e-2, atol=1e-2), name
    assert copy.lm_head.weight.data_ptr() == copy.model.embed_tokens.weight.data_ptr()  # tying kept


def test_blocks_sharing_tool_docs_prefill_their_prefix_once_and_match_greedy(model_and_rows):
    """Prompts over the same tool docs with different questions form a block whose prefix is
    computed once; prompts over other docs form their own; outputs still equal ``generate``."""
    from inftool_dagster.llm.prefix_blocks import prefix_blocks

    model, rows, eos = model_and_rows
    system = rows[0][:20]
    docs = [list(range(100, 140)), list(range(200, 230)), list(range(300, 305))]
    prompts = [system + docs[k % 3] + [400 + k, 401 + k] * (1 + k % 2) for k in range(9)]
    prompts.append(system + [7, 8])  # nothing beyond the common prefix
    blocks = prefix_blocks(prompts)
    by_member = {i: b for b in blocks for i in b.members}
    assert sorted(by_member[0].members) == [0, 3, 6] and by_member[0].shared == 60
    assert sorted(by_member[1].members) == [1, 4, 7] and by_member[1].shared == 50
    assert len(by_member[2].members) == 1 and by_member[9].shared == 0  # docs of 5 tokens: not worth a block

    settings = DecodeSettings(max_new_tokens=10, eos_ids=frozenset(eos))
    fed, outputs = _prefilled_tokens(ContinuousDecoder(model, slots=4), prompts, settings)
    assert [o[0].tokens for o in outputs] == [_alone(model, p, 10, eos) for p in prompts]
    # the common 20 tokens once, each block's docs once (40 and 30 tokens), then only questions
    assert fed == 20 + 40 + 30 + sum(len(p) - 20 for p in prompts) - 3 * (40 + 30)
    # switched off: only the common prefix is shared; the same outputs
    fed, again = _prefilled_tokens(ContinuousDecoder(model, slots=4, prefix_blocks=False), prompts, settings)
    assert [o[0].tokens for o in again] == [o[0].tokens for o in outputs]
    assert fed == 20 + sum(len(p) - 20 for p in prompts)


def _prefilled_tokens(decoder, prompts, settings):
    """(tokens the decoder prefilled, its outputs)."""
    fed: list[int] = []
    original = decoder._prefill

    def counting(suffixes, *args):
        fed.extend(len(s) for s in suffixes)
        return original(suffixes, *args)

    decoder._prefill = counting
    outputs = decoder.generate(prompts, settings)
    return sum(fed), outputs


def test_nested_blocks_compute_each_level_once_from_its_parent(model_and_rows):
    """A prefix tree: all prompts share a system prompt, most a tool-set header, and within it
    two groups their own docs; every level is prefilled once, from its parent's keys/values."""
    from inftool_dagster.llm.prefix_blocks import prefix_blocks

    model, rows, eos = model_and_rows
    system, header = rows[0][:20], list(range(500, 530))
    docs = [list(range(100, 140)), list(range(200, 240))]
    prompts = [system + header + docs[k % 2] + [400 + k] * (1 + k % 3) for k in range(6)]
    prompts += [system + [7, 8, 9], system + header + [9, 9]]  # the header only; nothing beyond the system
    top = [b for b in prefix_blocks(prompts) if len(b.members) > 1]
    assert len(top) == 1 and top[0].shared == 50 and len(top[0].members) == 7
    assert sorted(b.shared for b in top[0].children) == [90, 90]
    settings = DecodeSettings(max_new_tokens=8, eos_ids=frozenset(eos))
    fed, outputs = _prefilled_tokens(ContinuousDecoder(model, slots=3), prompts, settings)
    assert [o[0].tokens for o in outputs] == [_alone(model, p, 8, eos) for p in prompts]
    questions = sum(len(p) - 90 for p in prompts[:6]) + 2 + 3
    assert fed == 20 + 30 + 2 * 40 + questions
