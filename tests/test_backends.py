"""The backend interface: transformers (tiny model, real tokenizer), config, vLLM guard."""

import pytest
from pydantic import TypeAdapter, ValidationError

from inftool_dagster.llm.backend import BackendConfig, OpenAIConfig, TransformersConfig, VLLMConfig
from inftool_dagster.llm.prompts import COMPACT_SYSTEM_PROMPT, render_prompt
from inftool_dagster.llm.types import SamplingParams

from .tiny_model import real_tokenizer, tiny_backend

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]


@pytest.fixture(scope="module")
def backend():
    return tiny_backend(batch_size=4)


def convs():
    return [
        [{"role": "user", "content": text}]
        for text in [
            "Hi",
            "What is the weather in Berlin today, please?",
            "Book a table for two at eight.",
            "x" * 50,
            "Why?",
        ]
    ]


def test_batched_greedy_equals_one_at_a_time(backend):
    params = SamplingParams(max_new_tokens=12)
    batched = backend.generate(convs(), params, [TOOLS] * 5)
    single = [backend.generate([c], params, [TOOLS])[0] for c in convs()]
    assert [g[0].text for g in batched] == [g[0].text for g in single]
    for [g] in batched:
        assert g.ok and 0 < g.completion_tokens <= 12 and g.prompt_tokens > 50
        assert g.finish_reason in {"stop", "length"}


def test_sampling_n_and_seed_reproducible(backend):
    params = SamplingParams(max_new_tokens=8, temperature=1.0, n=3, seed=11)
    first = backend.generate(convs()[:2], params)
    again = backend.generate(convs()[:2], params)
    assert [len(g) for g in first] == [3, 3]
    assert [[x.text for x in g] for g in first] == [[x.text for x in g] for g in again]
    other = backend.generate(convs()[:2], params.model_copy(update={"seed": 12}))
    assert [[x.text for x in g] for g in first] != [[x.text for x in g] for g in other]


def test_length_and_stop_strings(backend):
    long = backend.generate(convs()[:1], SamplingParams(max_new_tokens=5))[0][0]
    assert long.completion_tokens <= 5
    if long.completion_tokens == 5:
        assert long.finish_reason == "length"
    text = backend.generate(convs()[:1], SamplingParams(max_new_tokens=20))[0][0].text
    if len(text) > 3:
        stop = text[2:4]
        cut = backend.generate(convs()[:1], SamplingParams(max_new_tokens=20, stop=[stop]))[0][0]
        assert stop not in cut.text and text.startswith(cut.text)


def test_prompt_mode_and_native_templates():
    tokenizer = real_tokenizer()
    prompt = render_prompt(tokenizer, [{"role": "user", "content": "Weather?"}], TOOLS)
    assert COMPACT_SYSTEM_PROMPT.split("\n")[0] in prompt and "get_weather(" in prompt  # SmolLM2: no tool template
    import copy

    native = copy.copy(tokenizer)
    native.chat_template = (
        "{% for t in tools %}TOOL:{{ t.function.name }}\n{% endfor %}"
        "{% for m in messages %}{{ m.role }}:{{ m.content }}\n{% endfor %}assistant:"
    )
    assert (
        render_prompt(native, [{"role": "user", "content": "Weather?"}], TOOLS)
        == "TOOL:get_weather\nuser:Weather?\nassistant:"
    )


def test_configs_are_typed_and_discriminated():
    adapter = TypeAdapter(BackendConfig)
    assert isinstance(adapter.validate_python({"kind": "openai", "model": "m"}), OpenAIConfig)
    assert isinstance(adapter.validate_python({"kind": "vllm", "model": "m"}), VLLMConfig)
    assert adapter.validate_python({"kind": "transformers"}) == TransformersConfig()
    with pytest.raises(ValidationError):
        adapter.validate_python({"kind": "llamafile", "model": "m"})
    with pytest.raises(ValidationError):
        SamplingParams(max_new_tokens=0)


def test_vllm_backend_is_guarded_without_vllm():
    pytest.importorskip("torch")
    try:
        import vllm  # noqa: F401
    except ImportError:
        from inftool_dagster.llm.factory import make_backend
        from inftool_dagster.llm.vllm_backend import VLLMUnavailable

        with pytest.raises(VLLMUnavailable, match="pip install"):
            make_backend({"kind": "vllm", "model": "smollm2-135m-instruct"})
    else:  # pragma: no cover - GPU machines
        pytest.skip("vllm installed")


def test_auto_dtype_is_bf16_exactly_where_the_cpu_has_native_bf16(monkeypatch):
    from inftool_dagster.llm import backend as backend_module

    assert backend_module.resolve_dtype("float32") == "float32"
    assert backend_module.resolve_dtype("bfloat16") == "bfloat16"
    monkeypatch.setattr(backend_module, "_cpu_has_bf16", lambda: True)
    assert backend_module.resolve_dtype("auto", "cpu") == "bfloat16"
    monkeypatch.setattr(backend_module, "_cpu_has_bf16", lambda: False)
    assert backend_module.resolve_dtype("auto", "cpu") == "float32"
    monkeypatch.undo()
    flags = next(line for line in open("/proc/cpuinfo") if line.startswith("flags")).split()
    assert (backend_module.resolve_dtype("auto", "cpu") == "bfloat16") == (
        "avx512_bf16" in flags or "amx_bf16" in flags
    )
