"""Where the heavy steps run: GPU pods on Kubernetes when the deployment asks for it.

With ``INFTOOL_GPU_TAGS=1`` (set in deployments/k8s/values.yaml) the generation and training
assets carry a ``dagster-k8s/config`` tag that the ``k8s_job_executor`` applies to their step
pods: one NVIDIA GPU, scheduled on GPU nodes. Without it the tags are empty and nothing changes
on a laptop.
"""

import os

GPU_POD = {
    "container_config": {"resources": {"limits": {"nvidia.com/gpu": "1"}, "requests": {"cpu": "4", "memory": "24Gi"}}},
    "pod_spec_config": {
        "node_selector": {"nvidia.com/gpu.present": "true"},
        "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
    },
}


def gpu_op_tags() -> dict:
    return {"dagster-k8s/config": GPU_POD} if os.environ.get("INFTOOL_GPU_TAGS") == "1" else {}


def round_executor():
    """``k8s_job_executor`` (each step its own pod) when ``INFTOOL_EXECUTOR=k8s``, else Dagster's default."""
    if os.environ.get("INFTOOL_EXECUTOR") != "k8s":
        return None
    from dagster_k8s import k8s_job_executor  # pip install dagster-k8s (the deployment image has it)

    return k8s_job_executor
