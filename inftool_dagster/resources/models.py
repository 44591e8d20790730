"""Which models the round's agents use, and on which backend."""

from typing import Literal

import dagster as dg

from inftool_dagster.llm.backend import TransformersConfig

_BACKEND = TransformersConfig()  # the defaults below are the backend's own


class PolicyModelResource(dg.ConfigurableResource):
    """The Tool-Calling Assistant (the policy) and, optionally, the User Simulator's model.

    ``model`` is the base policy of round 0; every later round's Assistant is the previous
    round's checkpoint (the asset passes it to ``policy_backend``). On ``backend="openai"`` the
    server at ``base_url`` must serve that checkpoint under its path as model name (e.g.
    ``inftool serve --model <checkpoint>`` or ``vllm serve <checkpoint>``).
    """

    model: str = _BACKEND.model
    backend: Literal["transformers", "vllm", "openai"] = "transformers"
    base_url: str = "http://127.0.0.1:8000/v1"  # backend="openai"
    device: str = _BACKEND.device
    dtype: str = _BACKEND.dtype  # auto: bfloat16 where native (AVX512-BF16 CPUs, GPUs), else float32
    batch_size: int = _BACKEND.batch_size  # decoder="generate": rows per generate call
    decoder: Literal["continuous", "generate"] = _BACKEND.decoder  # transformers: llm/continuous.py or generate
    slots: int = _BACKEND.slots  # decoder="continuous": rows decoded together
    simulator_model: str = ""  # empty: grammar realizations only
    simulator_follows_policy: bool = False  # the User Simulator uses the round's policy model too

    def backend_config(self, model: str | None = None):
        """The typed backend config for ``model`` (default: the base model)."""
        from inftool_dagster.llm.backend import OpenAIConfig, TransformersConfig, VLLMConfig

        model = model or self.model
        if self.backend == "vllm":
            return VLLMConfig(model=model)
        if self.backend == "openai":
            return OpenAIConfig(model=model, base_url=self.base_url)
        return TransformersConfig(
            model=model,
            device=self.device,
            batch_size=self.batch_size,
            dtype=self.dtype,
            decoder=self.decoder,
            slots=self.slots,
        )

    def policy_backend(self, model: str | None = None):
        from inftool_dagster.llm.factory import make_backend

        return make_backend(self.backend_config(model))

    def simulator_model_for(self, policy_model: str) -> str:
        """The User Simulator's model when the policy is ``policy_model`` ('' = grammar only)."""
        return policy_model if self.simulator_follows_policy else self.simulator_model
