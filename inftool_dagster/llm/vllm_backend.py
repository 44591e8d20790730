"""vLLM backend: the offline ``LLM`` engine (GPU). Imported lazily; optional (`pip install .[gpu]`)."""

from __future__ import annotations

from .backend import LLMBackend, VLLMConfig
from .prompts import render_prompt
from .types import Generation, SamplingParams, truncate_at_stop


class VLLMUnavailable(ImportError):
    pass


class VLLMBackend(LLMBackend):
    name = "vllm"

    def __init__(self, config: VLLMConfig) -> None:
        try:
            import vllm
        except ImportError as exc:
            raise VLLMUnavailable(
                "the vllm backend needs vLLM on a GPU machine: pip install -e '.[gpu]' (not installed here)"
            ) from exc
        from inftool_dagster.models.registry import resolve_model

        resolved = resolve_model(config.model)
        # automatic prefix caching: vLLM's own form of the shared-prefix reuse (llm/shared_prefix.py)
        kwargs = {
            "dtype": config.dtype,
            "gpu_memory_utilization": config.gpu_memory_utilization,
            "enable_prefix_caching": True,
        }
        if config.max_model_len:
            kwargs["max_model_len"] = config.max_model_len
        if resolved.gguf_file:
            kwargs["model"] = f"{resolved.path}/{resolved.gguf_file}"
        else:
            kwargs["model"] = resolved.path
        self.config = config
        self._vllm = vllm
        self.llm = vllm.LLM(**kwargs)
        self.tokenizer = self.llm.get_tokenizer()

    def generate(self, conversations, params: SamplingParams, tools=None) -> list[list[Generation]]:
        prompts = [
            render_prompt(self.tokenizer, conv, tools[i] if tools else None, self.config.tool_format)
            for i, conv in enumerate(conversations)
        ]
        sampling = self._vllm.SamplingParams(
            n=params.n,
            temperature=params.temperature,
            top_p=params.top_p,
            max_tokens=params.max_new_tokens,
            stop=params.stop or None,
            seed=params.seed,
        )
        results = self.llm.generate(prompts, sampling)
        out = []
        for result in results:
            gens = []
            for completion in result.outputs:
                text, _ = truncate_at_stop(completion.text, params.stop)
                gens.append(
                    Generation(
                        text=text,
                        prompt_tokens=len(result.prompt_token_ids or []),
                        completion_tokens=len(completion.token_ids),
                        finish_reason=completion.finish_reason or "stop",
                    )
                )
            out.append(gens)
        return out
