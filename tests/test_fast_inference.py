"""The fast inference path: shared-prefix generation, GRPO rollouts through it, compact prompts."""

import json

from inftool_dagster.llm.prompts import compact_function_docs
from inftool_dagster.llm.shared_prefix import PrefixCache, common_prefix_length, generate_rows
from inftool_dagster.llm.types import SamplingParams

from .tiny_model import real_tokenizer, tiny_backend, tiny_model


def test_common_prefix_length():
    assert common_prefix_length([[1, 2, 3], [1, 2, 4], [1, 2]]) == 2
    assert common_prefix_length([[5], [6]]) == 0
    assert common_prefix_length([[1, 2, 3]]) == 3
    assert common_prefix_length([]) == 0


def test_shared_prefix_greedy_equals_plain_generate():
    """Rows of different lengths behind one shared prefix, then a second batch whose prefix is
    shorter (the cache is cropped) and a third whose prefix is longer (extended): every row's
    greedy tokens equal plain generation of that row alone."""
    model, tok = tiny_model(seed=5, layers=3)
    system = tok(
        "You are a function-calling assistant. Functions: get_weather(city: string). " * 3, add_special_tokens=False
    )["input_ids"]
    questions = [
        "What is the weather in Paris?",
        "hi",
        "Compute the area of a triangle with base 3 and height 4",
        "Weather in Berlin and in Rome, please, for tomorrow morning",
    ]
    batches = [
        [system + tok(q, add_special_tokens=False)["input_ids"] for q in questions],
        [system[:20] + [11, 12, 13], system[:20] + [14, 15, 16, 17, 18]],
        [system + [7] * 30 + [21], system + [7] * 30 + [22, 23]],
    ]
    kwargs = {"max_new_tokens": 16, "do_sample": False}
    cache = PrefixCache(model)
    outputs = []
    for rows in batches:
        fast = generate_rows(model, rows, tok.pad_token_id, kwargs, cache)
        for row, out in zip(rows, fast.tolist()):
            alone = generate_rows(model, [row], tok.pad_token_id, kwargs, None)[0].tolist()
            assert out[: len(alone)] == alone
            outputs.append(tuple(alone))
    assert len(set(outputs)) > 3  # the rows really generate different things


def test_backend_shared_prefix_same_texts_as_plain():
    convs = [[{"role": "user", "content": q}] for q in ["Weather in Oslo?", "Book a table for two at eight.", "Why?"]]
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
    ] * 3
    params = SamplingParams(max_new_tokens=10)
    fast = tiny_backend(batch_size=2, shared_prefix=True).generate(convs, params, tools)
    plain = tiny_backend(batch_size=2, shared_prefix=False).generate(convs, params, tools)
    assert [g[0].text for g in fast] == [g[0].text for g in plain]
    assert [g[0].prompt_tokens for g in fast] == [g[0].prompt_tokens for g in plain]


def test_grpo_rollouts_through_the_shared_prefix_equal_trl(tmp_path):
    """The GRPO trainer's rollout override: greedy completions equal TRL's own transformers path."""
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    from inftool_dagster.compat.trl_grpo import SharedPrefixGRPOTrainer
    from inftool_dagster.training.rewards import format_reward

    tok = real_tokenizer()
    prompts = [
        tok.apply_chat_template([{"role": "user", "content": q}], add_generation_prompt=True, tokenize=False)
        for q in ["Weather in Oslo?", "Book a table for two at eight o'clock tonight."]
    ]
    args = GRPOConfig(
        output_dir=str(tmp_path),
        use_cpu=True,
        num_generations=3,
        per_device_train_batch_size=6,
        max_completion_length=12,
        report_to=[],
        temperature=1.0,
    )
    data = Dataset.from_dict({"prompt": prompts, "gold_calls": ["[]", "[]"]})
    outs = []
    for cls in (GRPOTrainer, SharedPrefixGRPOTrainer):
        model, _ = tiny_model(seed=5, layers=3)
        trainer = cls(model=model, reward_funcs=[format_reward], args=args, train_dataset=data, processing_class=tok)
        trainer.generation_config.do_sample = False
        ids = [tok(p, add_special_tokens=False)["input_ids"] for p in prompts for _ in range(3)]
        completions, logprobs = trainer._generate_single_turn(ids, None, {}, 3)
        assert logprobs is None and len(completions) == 6
        outs.append(completions)
    assert outs[0] == outs[1]
    assert outs[1][0] != outs[1][3]


def test_compact_docs_keep_the_schema_information():
    functions = [
        {
            "name": "book",
            "description": "Book a table.",
            "parameters": {
                "type": "dict",
                "required": ["when", "party"],
                "properties": {
                    "when": {"type": "string", "description": "ISO time", "format": "date-time"},
                    "party": {"type": "integer", "description": "People", "minimum": 1},
                    "seat": {"type": "string", "enum": ["in", "out"], "default": "in"},
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "contact": {
                        "type": "dict",
                        "required": ["name"],
                        "description": "Who books",
                        "properties": {
                            "name": {"type": "string", "description": "Full name"},
                            "phone": {"type": "string"},
                        },
                    },
                },
            },
        }
    ]
    docs = compact_function_docs(functions)
    head, *lines = docs.splitlines()
    assert head == (
        'book(when: string, party: integer, seat?: "in"|"out" = "in", tags?: array[string], '
        "contact?: dict{name: string, phone?: string}) - Book a table."
    )
    assert '  when: ISO time {"format": "date-time"}' in lines and '  party: People {"minimum": 1}' in lines
    assert "  contact: Who books" in lines and "  contact.name: Full name" in lines
    tok = real_tokenizer()
    assert len(tok(docs)["input_ids"]) < 0.6 * len(tok(json.dumps(functions, indent=4))["input_ids"])


PIECES = [
    "Sure",
    ",",
    " here",
    " is",
    " the",
    " function",
    " call",
    ":",
    "\n",
    "[",
    "]",
    "(",
    ")",
    "math",
    ".",
    "sqrt",
    "x",
    "=",
    "1",
    "'",
    '"',
    "I",
    "'m",
    " sorry",
    "To",
    " compute",
    "get_weather",
    "city",
    "Berlin",
    "```",
    "python",
    " ",
    "f",
    "r",
    "#",
    "\\",
    "，",
    "我想",
]


def test_hopeless_prefixes_never_decode_whatever_follows():
    """``cannot_decode_to_calls`` is exact: whenever it says a prefix is hopeless, no continuation
    decodes to calls; and it never fires on any prefix of a real BFCL call list."""
    import random

    from hypothesis import given, settings
    from hypothesis import strategies as st

    from inftool_dagster.bfcl import load_category
    from inftool_dagster.bfcl.decode import DecodeError, cannot_decode_to_calls, decode_ast, is_function_calling_format
    from inftool_dagster.llm.tool_calls import ToolCall, render_python

    from .test_bfcl import gold_output

    def decodes(text):
        try:
            decode_ast(text)
            return True
        except DecodeError:
            return False

    def decodes_to_calls(text):
        return decodes(text) and is_function_calling_format(decode_ast(text))

    fired = []

    @settings(max_examples=400, deadline=None, derandomize=True)
    @given(st.lists(st.sampled_from(PIECES), max_size=8), st.lists(st.sampled_from(PIECES + ["a=1)]"]), max_size=10))
    def check(prefix, rest):
        text = "".join(prefix)
        if cannot_decode_to_calls(text):
            fired.append(text)
            for continuation in ("".join(rest), "(x=1)]", ".f(x=1)]", ")]", "]"):
                assert not decodes(text + continuation)  # a decode failure: the same verdict in every category

    check()
    assert len(fired) > 50  # the rule does fire on prose-like starts
    rng = random.Random(0)
    for category in ("simple_python", "parallel_multiple", "live_multiple"):
        for entry in list(load_category(category))[:60]:
            text = render_python([ToolCall(next(iter(c)), next(iter(c.values()))) for c in gold_output(entry, rng)])
            assert decodes_to_calls(text)
            for k in range(len(text) + 1):
                assert not cannot_decode_to_calls(text[:k]), (text, k)


def test_grpo_loss_scores_each_prompt_once_with_trl_logprobs_and_gradients(tmp_path):
    """The shared-prompt scoring (prompt forwarded once per group, its KV cache indexed out to
    the completions) gives the exact per-token log-probs, entropies and gradients of the whole
    sequences (in float64, to 1e-7), which TRL's own scoring approximates."""
    import torch
    from datasets import Dataset
    from trl import GRPOConfig

    from inftool_dagster.compat.trl_grpo import SharedPrefixGRPOTrainer
    from inftool_dagster.compat.trl_logprobs import completion_tokens_only
    from inftool_dagster.training.rewards import format_reward

    tok = real_tokenizer()
    model, _ = tiny_model(seed=4, layers=2)
    args = GRPOConfig(
        output_dir=str(tmp_path),
        use_cpu=True,
        num_generations=3,
        per_device_train_batch_size=6,
        max_completion_length=8,
        report_to=[],
        temperature=0.7,
        gradient_checkpointing=False,
    )
    data = Dataset.from_dict({"prompt": ["a", "b"], "gold_calls": ["[]", "[]"]})
    trainer = SharedPrefixGRPOTrainer(
        model=model, reward_funcs=[format_reward], args=args, train_dataset=data, processing_class=tok
    )
    model = trainer.model.double()  # float64: differences left are the method's, not rounding's
    prompts = [[5, 6, 7, 8, 9, 10], [11, 12, 13]]
    width = 6
    ids, mask = [], []
    for p in prompts:  # three completions per prompt; prompts left-padded, completions right-padded
        for k in range(3):
            completion = [20 + k, 30 + k, 40, 50 + k, 60][: 3 + k]
            ids.append(
                [tok.pad_token_id] * (width - len(p)) + p + completion + [tok.pad_token_id] * (5 - len(completion))
            )
            mask.append([0] * (width - len(p)) + [1] * len(p) + [1] * len(completion) + [0] * (5 - len(completion)))
    ids, mask = torch.tensor(ids), torch.tensor(mask)

    def run(method):
        model.zero_grad()
        logps, entropy, _ = method(model, ids, mask, 5, compute_entropy=True)
        (logps * mask[:, -5:]).sum().backward()
        grad = model.model.layers[0].self_attn.q_proj.weight.grad.clone()
        return logps.detach() * mask[:, -5:], entropy.detach() * mask[:, -5:], grad

    def plain(model, ids, mask, n, compute_entropy=True):  # the textbook computation, in float64 logits
        logits = model(input_ids=ids, attention_mask=mask).logits[:, -n - 1 : -1].double() / 0.7
        logp = torch.log_softmax(logits, -1)
        return logp.gather(-1, ids[:, -n:, None]).squeeze(-1), -(logp.exp() * logp).sum(-1), None

    textbook = run(plain)
    shared = run(trainer._get_per_token_logps_and_entropies)
    with completion_tokens_only():
        reference = run(super(SharedPrefixGRPOTrainer, trainer)._get_per_token_logps_and_entropies)
    for ours, exact, trl in zip(shared, textbook, reference):
        torch.testing.assert_close(ours, exact.to(ours.dtype), rtol=1e-7, atol=1e-7)
        torch.testing.assert_close(trl, exact.to(trl.dtype), rtol=1e-3, atol=5e-3)  # TRL's fused head rounds more
    assert textbook[2].abs().sum() > 0


def test_long_prompts_get_smaller_batches_and_overlong_ones_a_recorded_failure():
    backend = tiny_backend(batch_size=8, max_batch_tokens=600, max_prompt_tokens=400)
    tok = backend.tokenizer
    short, long = "hello " * 20, "word " * 250
    prompts = [short] * 4 + [long] * 3 + ["x " * 900]
    rows = tok(prompts, add_special_tokens=False)["input_ids"]
    order = sorted((i for i in range(len(prompts)) if len(rows[i]) <= 400), key=lambda i: (len(rows[i]), i))
    chunks = [chunk for _, chunk in backend._batches(order, rows)]
    assert [len(c) for c in chunks] == [4, 2, 1]  # 4 short rows fit 600 tokens; 2 × 250 do, 3 do not
    out = backend.generate_prompts(prompts, SamplingParams(max_new_tokens=3))
    assert all(g[0].ok for g in out[:7])
    assert not out[7][0].ok and "prompt too long" in out[7][0].error
