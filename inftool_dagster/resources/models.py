"""Which models the round's agents use."""

import dagster as dg


class PolicyModelResource(dg.ConfigurableResource):
    """The Tool-Calling Assistant (the policy) and, optionally, the User Simulator's model."""

    model: str = "smollm2-135m-instruct"
    device: str = "cpu"
    batch_size: int = 8
    simulator_model: str = ""  # empty: grammar realizations only

    def policy_backend(self):
        from inftool_dagster.llm.backend import TransformersConfig
        from inftool_dagster.llm.transformers_backend import TransformersBackend

        return TransformersBackend(TransformersConfig(model=self.model, device=self.device, batch_size=self.batch_size))
