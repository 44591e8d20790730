"""``inftool``: the things people do without the UI.

Every long-running command ends by printing one JSON line on stdout, so scripts and
benchmarks can read its figures; progress and logs go to stderr.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import click

from inftool_dagster.bfcl.settings import EvalSettings
from inftool_dagster.llm.backend import TransformersConfig
from inftool_dagster.models.registry import DEFAULT_MODEL
from inftool_dagster.synthesis.config import SynthConfig
from inftool_dagster.training.config import TrainConfig


def _default(model: type, name: str):
    """An option's default as the domain model that owns the setting defines it (pydantic model
    or dataclass): the CLI never restates a default."""
    fields = getattr(model, "model_fields", None)
    if fields is not None:
        return fields[name].get_default(call_default_factory=True)
    return {f.name: f.default for f in dataclasses.fields(model)}[name]


def _emit(payload: dict) -> None:
    click.echo(json.dumps(payload, default=str))


@click.group()
@click.version_option(package_name="inftool-dagster")
def main() -> None:
    """Turn raw API specifications into a tool-calling model."""


# --- catalog -----------------------------------------------------------------
@main.group()
def catalog() -> None:
    """Build and inspect tool catalogs."""


@catalog.command("build")
@click.argument("paths", nargs=-1, required=True)
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Output directory.")
@click.option("--workers", type=int, default=0, help="Worker processes (0: one per core).")
@click.option("--max-spec-mb", type=float, default=64.0, help="Specs larger than this are rejected unread.")
@click.option("--progress/--no-progress", default=True)
def catalog_build(paths: tuple[str, ...], out_dir: str, workers: int, max_spec_mb: float, progress: bool) -> None:
    """Ingest OpenAPI/Swagger specs, tool lists, function docs and MCP listings (files, dirs, .tgz),
    and Python functions from a .py file or an importable module named py:package.module (imported
    only when named here; a directory walk never imports .py files)."""
    from inftool_dagster.catalog import build_catalog

    build = build_catalog(
        list(paths),
        workers=workers or None,
        max_spec_bytes=int(max_spec_mb * 1024 * 1024),
        progress=progress and sys.stderr.isatty(),
    )
    build.write(out_dir)
    _emit(build.summary())


@catalog.command("tree")
@click.option("--catalog", "catalog_dir", required=True, type=click.Path(exists=True), help="Catalog dir.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Output directory.")
@click.option("--cache", "cache", default=None, type=click.Path(file_okay=False), help="Embedding cache dir.")
@click.option(
    "--threshold", type=float, default=None, help="Cosine at which tools merge (default: duplicates.DEFAULT_THRESHOLD)."
)
@click.option("--domains", type=int, default=None, help="Top-level domains (default: grows with the catalog).")
@click.option("--max-seq-length", type=int, default=None, help="Tokens of a tool's text embedded (default: 48).")
@click.option("--seed", type=int, default=0)
def catalog_tree(
    catalog_dir: str,
    out_dir: str,
    cache: str | None,
    threshold: float | None,
    domains: int | None,
    max_seq_length: int | None,
    seed: int,
) -> None:
    """De-duplicate the catalog's tools and organise them into domains (the MCP tree)."""
    from inftool_dagster.catalog.tree import EmptyCatalogError, TreeSettings, build_tool_tree

    given = {"threshold": threshold, "domains": domains, "max_seq_length": max_seq_length, "seed": seed}
    settings = TreeSettings(**{k: v for k, v in given.items() if v is not None})
    try:
        summary = build_tool_tree(catalog_dir, out_dir, cache_dir=cache, **settings.model_dump())
    except EmptyCatalogError as exc:
        raise click.ClickException(str(exc)) from None
    _emit(summary)


# --- models ------------------------------------------------------------------
@main.group()
def model() -> None:
    """The model registry (embedded default: smollm2-135m-instruct, ``DEFAULT_MODEL``)."""


@model.command("info")
@click.argument("name", default=DEFAULT_MODEL)
def model_info_cmd(name: str) -> None:
    """Load NAME (embedded name, local path or cached hub id) and print what it is."""
    from inftool_dagster.models.loading import model_info
    from inftool_dagster.models.registry import ModelResolutionError

    try:
        info = model_info(name)
    except ModelResolutionError as exc:
        raise click.ClickException(str(exc)) from exc
    _emit(info.as_dict())


# --- MCP server --------------------------------------------------------------
@main.group()
def mcp() -> None:
    """The MCP Server agent: a catalog served as a simulated MCP server."""


@mcp.command("serve")
@click.option(
    "--catalog", "catalog_dir", required=True, type=click.Path(exists=True), help="Catalog dir (catalog.parquet)."
)
@click.option("--transport", type=click.Choice(["stdio", "http"]), default="stdio")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=8765, type=int)
@click.option(
    "--seed", default=0, type=int, help="Simulation seed: same seed, tool and arguments give the same result."
)
@click.option("--page-size", default=200, type=int, help="tools/list page size.")
@click.option("--llm-results", default=None, help="Model that writes results (schema-checked; simulator fallback).")
def mcp_serve(
    catalog_dir: str, transport: str, host: str, port: int, seed: int, page_size: int, llm_results: str | None
) -> None:
    """Serve CATALOG over stdio or streamable HTTP (at http://HOST:PORT/mcp)."""
    from inftool_dagster.mcp_server import CatalogServer
    from inftool_dagster.mcp_server.transports import run_stdio, serve_http

    writer = None
    if llm_results:
        from inftool_dagster.llm.backend import TransformersConfig
        from inftool_dagster.llm.transformers_backend import TransformersBackend
        from inftool_dagster.mcp_server.llm_results import LLMResultWriter

        writer = LLMResultWriter(TransformersBackend(TransformersConfig(model=llm_results)))
    server = CatalogServer.from_catalog(catalog_dir, seed=seed, page_size=page_size, result_writer=writer)
    click.echo(
        f"serving {len(server.tools)} tools over {transport}"
        + (f" at http://{host}:{port}/mcp" if transport == "http" else ""),
        err=True,
    )
    if transport == "stdio":
        run_stdio(server)
    else:
        serve_http(server, host, port)


@mcp.command("check")
@click.option(
    "--catalog", "catalog_dir", required=True, type=click.Path(exists=True), help="Catalog dir (catalog.parquet)."
)
@click.option("--sample", default=None, type=int, help="Check a seeded sample of N tools (default: every tool).")
@click.option("--seed", default=0, type=int, help="Seeds the sample and every draw.")
def mcp_check(catalog_dir: str, sample: int | None, seed: int) -> None:
    """Draw arguments and a result for each tool and validate them against the tool's own schemas."""
    from inftool_dagster.mcp_server.conformance import check_tools, sample_tools
    from inftool_dagster.mcp_server.simulator import load_tools

    tools = load_tools(catalog_dir)
    click.echo(f"checking {min(sample or len(tools), len(tools))} of {len(tools)} tools", err=True)
    _emit(check_tools(sample_tools(tools, sample, seed), seed=seed).as_dict())


# --- synthesis --------------------------------------------------------------
@main.command("synth")
@click.option("--catalog", "catalog_dir", required=True, type=click.Path(exists=True))
@click.option("--n", "n", required=True, type=int, help="Blueprints to synthesize.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False))
@click.option("--model", "policy_model", default=DEFAULT_MODEL, help="The assistant (policy) model.")
@click.option("--simulator-model", default=None, help="User Simulator model (default: grammar realizations only).")
@click.option(
    "--tree",
    "tree_dir",
    default=None,
    type=click.Path(exists=True, file_okay=False),
    help="An MCP tree (`inftool catalog tree --out`): plan canonical tools, domains evenly, distractors "
    "from the target's cluster.",
)
@click.option("--seed", default=_default(SynthConfig, "seed"), type=int)
@click.option("--shard-size", default=_default(SynthConfig, "shard_size"), type=int)
@click.option(
    "--shards-per-wave",
    default=_default(SynthConfig, "shards_per_wave"),
    type=int,
    show_default=True,
    help="Shards whose conversations share each turn's generate call (each shard still written alone).",
)
@click.option("--batch-size", default=_default(TransformersConfig, "batch_size"), type=int)
@click.option("--max-new-tokens", default=_default(SynthConfig, "max_new_tokens"), type=int)
@click.option("--export", "exports", multiple=True, type=click.Choice(["jsonl", "hf"]), help="Also export the set.")
@click.option(
    "--realizer",
    type=click.Choice(["grammar", "natural"]),
    default=_default(SynthConfig, "realizer"),
    show_default=True,
    help="How the User Simulator phrases requests: the grammar, or values in context.",
)
@click.option(
    "--requests-only",
    is_flag=True,
    help="Only the User Simulator's requests (no assistant, no server): requests.parquet and how much they sound "
    "like people (param_name_rate, distinct_1/2/3, leak_check_pass_rate).",
)
def synth(
    catalog_dir,
    n,
    out_dir,
    policy_model,
    simulator_model,
    tree_dir,
    seed,
    shard_size,
    shards_per_wave,
    batch_size,
    max_new_tokens,
    exports,
    realizer,
    requests_only,
):
    """User Simulator ⇄ Assistant ⇄ MCP Server conversations, in resumable shards."""
    from inftool_dagster.llm.backend import TransformersConfig
    from inftool_dagster.llm.transformers_backend import TransformersBackend, companion_backend
    from inftool_dagster.synthesis import SynthConfig, export_hf, export_jsonl, load_trajectories, synthesize

    if requests_only:
        from inftool_dagster.synthesis import realize_requests

        simulator = (
            TransformersBackend(TransformersConfig(model=simulator_model, batch_size=batch_size))
            if simulator_model
            else None
        )
        config = SynthConfig(n=n, seed=seed, simulator_model=simulator_model, tree_dir=tree_dir, realizer=realizer)
        _emit(realize_requests(catalog_dir, out_dir, config, simulator))
        return

    policy = TransformersBackend(TransformersConfig(model=policy_model, batch_size=batch_size))
    simulator = companion_backend(policy, simulator_model)
    config = SynthConfig(
        n=n,
        seed=seed,
        shard_size=shard_size,
        shards_per_wave=shards_per_wave,
        max_new_tokens=max_new_tokens,
        policy_model=policy_model,
        simulator_model=simulator_model,
        tree_dir=tree_dir,
        realizer=realizer,
    )
    summary = synthesize(catalog_dir, out_dir, config, policy, simulator, progress=True)
    frame = load_trajectories(out_dir)
    if "jsonl" in exports:
        export_jsonl(frame, Path(out_dir) / "trajectories.jsonl")
    if "hf" in exports:
        export_hf(frame, Path(out_dir) / "hf_dataset")
    _emit(summary)


# --- verification -----------------------------------------------------------
@main.command("verify")
@click.option("--trajectories", required=True, type=click.Path(exists=True), help="A synth output dir (shards).")
@click.option("--catalog", "catalog_dir", required=True, type=click.Path(exists=True))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False))
@click.option("--heldout-fraction", default=0.2, type=float, help="Share of tools held out of training.")
@click.option("--max-per-tool", default=None, type=int)
@click.option("--max-per-template", default=None, type=int)
@click.option("--semantic-judge", default=None, help="Enable the semantic gate with this judge model.")
def verify_cmd(trajectories, catalog_dir, out_dir, heldout_fraction, max_per_tool, max_per_template, semantic_judge):
    """Gates (format, schema, execution, intent[, semantic]) → dedup → GRPO/SFT training views."""
    from inftool_dagster.verification import CorruptTrajectories, VerifyConfig, verify
    from inftool_dagster.verification.dedup import DedupConfig
    from inftool_dagster.verification.gates import GateConfig

    judge = None
    if semantic_judge:
        from inftool_dagster.llm.backend import TransformersConfig
        from inftool_dagster.llm.transformers_backend import TransformersBackend

        judge = TransformersBackend(TransformersConfig(model=semantic_judge))
    config = VerifyConfig(
        gates=GateConfig(semantic=judge is not None),
        heldout_fraction=heldout_fraction,
        dedup=DedupConfig(max_per_tool=max_per_tool, max_per_template=max_per_template),
    )
    try:
        summary = verify(trajectories, catalog_dir, out_dir, config, judge)
    except CorruptTrajectories as exc:
        raise click.ClickException(str(exc)) from None
    _emit(
        {
            k: summary[k]
            for k in ("trajectories", "verified", "rejected", "removed", "grpo_prompts", "sft_chats", "seconds")
        }
    )


# --- training ---------------------------------------------------------------
@main.command("train")
@click.option("--method", type=click.Choice(["grpo", "sft"]), default=_default(TrainConfig, "method"))
@click.option(
    "--data",
    "data_dir",
    required=True,
    type=click.Path(exists=True, file_okay=False),
    help="A training set dir (grpo_train.parquet / sft_train.parquet from inftool verify).",
)
@click.option("--model", "model_name", default=DEFAULT_MODEL)
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False))
@click.option("--max-steps", default=_default(TrainConfig, "max_steps"), type=int)
@click.option("--lora", is_flag=True, help="Train LoRA adapters (merged into the saved checkpoint).")
@click.option("--num-generations", default=_default(TrainConfig, "num_generations"), type=int, help="GRPO group size.")
@click.option("--max-completion-length", default=_default(TrainConfig, "max_completion_length"), type=int)
@click.option("--learning-rate", default=_default(TrainConfig, "learning_rate"), type=float, show_default=True)
@click.option(
    "--boundary-candidates",
    default=_default(TrainConfig, "boundary_candidates"),
    type=int,
    show_default=True,
    help="GRPO: sample a group for this many prompts first and train only on those with reward variance (0: off).",
)
@click.option(
    "--reward-weights",
    default=None,
    help='JSON weights of the gated rewards, e.g. \'{"format":0.2,"name":0.2,"arguments":0.4,"execution":0.2}\'.',
)
@click.option(
    "--catalog",
    "catalog_dir",
    default=None,
    type=click.Path(exists=True, file_okay=False),
    help="Tool catalog whose MCP Server scores the execution reward.",
)
@click.option(
    "--deepspeed",
    default=None,
    type=click.Path(exists=True, dir_okay=False),
    help="DeepSpeed config (e.g. deployments/deepspeed/zero2.json) under accelerate launch.",
)
def train_cmd(
    method,
    data_dir,
    model_name,
    out_dir,
    max_steps,
    lora,
    num_generations,
    max_completion_length,
    learning_rate,
    boundary_candidates,
    reward_weights,
    catalog_dir,
    deepspeed,
):
    """GRPO with gated rewards (or SFT) via TRL; resumes from the last saved step; one JSON line."""
    from inftool_dagster.training import TrainConfig, train

    extra = {"reward_weights": json.loads(reward_weights)} if reward_weights else {}
    config = TrainConfig(
        method=method,
        max_steps=max_steps,
        lora=lora,
        num_generations=num_generations,
        max_completion_length=max_completion_length,
        learning_rate=learning_rate,
        boundary_candidates=boundary_candidates,
        catalog_dir=catalog_dir,
        deepspeed=deepspeed,
        **extra,
    )
    try:
        summary = train(data_dir, model_name, out_dir, config)
    except (ValueError, FileNotFoundError) as exc:
        raise click.ClickException(str(exc)) from None
    if int(os.environ.get("RANK", "0")) == 0:  # under accelerate launch: one JSON line, from the main process
        _emit(summary)


# --- BFCL -------------------------------------------------------------------
@main.group("bfcl")
def bfcl_group():
    """Berkeley Function-Calling Leaderboard: evaluate a model, score outputs."""


@bfcl_group.command("eval")
@click.option("--model", "model_name", default=DEFAULT_MODEL, help="Embedded name, checkpoint dir or hub id.")
@click.option("--backend", type=click.Choice(["transformers", "vllm"]), default="transformers")
@click.option(
    "--categories",
    default=",".join(_default(EvalSettings, "categories")),
    help="Comma-separated BFCL categories or groups: non_live, live, multi_turn, ast, python_ast, single_turn, all.",
)
@click.option(
    "--split",
    type=click.Choice(["dev", "test", "all"]),
    default="test",
    show_default=True,
    help="BFCL dev/test split by a stable hash of the entry id (bfcl/splits.py): test for reports, "
    "dev for anything that steers training, all = BFCL's whole categories (leaderboard-comparable).",
)
@click.option(
    "--limit",
    default=None,
    type=int,
    help="A uniform sample of N entries per category from the split (hash order); default: all of it.",
)
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False))
@click.option("--batch-size", default=_default(TransformersConfig, "batch_size"), type=int)
@click.option("--max-new-tokens", default=_default(EvalSettings, "max_new_tokens"), type=int)
@click.option(
    "--prompt-format", type=click.Choice(["bfcl", "compact"]), default=_default(EvalSettings, "prompt_format")
)
@click.option(
    "--stop-after-calls/--no-stop-after-calls",
    default=_default(EvalSettings, "stop_after_calls"),
    show_default=True,
    help="End each output where its call list closes (nothing after a complete list is generated).",
)
@click.option(
    "--decoder",
    type=click.Choice(["continuous", "generate"]),
    default=_default(TransformersConfig, "decoder"),
    show_default=True,
    help="transformers backend: continuous batching (llm/continuous.py) or transformers' generate.",
)
@click.option(
    "--full-outputs",
    is_flag=True,
    help="Do not end outputs early once they can no longer decode to calls (same verdicts either way).",
)
@click.option(
    "--dtype",
    type=click.Choice(["auto", "float32", "bfloat16", "float16"]),
    default=_default(TransformersConfig, "dtype"),
    help="Weights' dtype (transformers backend); auto: bfloat16 where the CPU/GPU computes it natively.",
)
@click.option("--device", default="cpu")
def bfcl_eval(
    model_name,
    backend,
    categories,
    split,
    limit,
    out_dir,
    batch_size,
    max_new_tokens,
    prompt_format,
    stop_after_calls,
    decoder,
    full_outputs,
    dtype,
    device,
):
    """Generate on BFCL entries (batched), write BFCL's result/score layout, print one JSON line."""
    from inftool_dagster.bfcl import BFCLDataError, evaluate
    from inftool_dagster.bfcl.data import expand_categories
    from inftool_dagster.llm.backend import TransformersConfig, VLLMConfig
    from inftool_dagster.llm.factory import make_backend

    config = (
        TransformersConfig(model=model_name, batch_size=batch_size, device=device, dtype=dtype, decoder=decoder)
        if backend == "transformers"
        else VLLMConfig(model=model_name)
    )
    try:
        summary = evaluate(
            make_backend(config),
            expand_categories(categories),
            out_dir,
            model_name=model_name,
            split=split,
            limit=limit,
            max_new_tokens=max_new_tokens,
            prompt_format=prompt_format,
            stop_after_calls=stop_after_calls,
            stop_hopeless=not full_outputs,
            progress=True,
        )
    except BFCLDataError as exc:
        raise click.ClickException(str(exc)) from None
    _emit(summary)


@bfcl_group.command("score")
@click.argument("results", type=click.Path(exists=True, file_okay=False))
def bfcl_score(results):
    """Score BFCL_v4_<category>_result.json files produced elsewhere."""
    from inftool_dagster.bfcl import BFCLDataError, score_results

    try:
        _emit(score_results(results))
    except BFCLDataError as exc:
        raise click.ClickException(str(exc)) from None


@bfcl_group.command("compare")
@click.argument("first", type=click.Path(exists=True, file_okay=False))
@click.argument("second", type=click.Path(exists=True, file_okay=False))
def bfcl_compare(first, second):
    """Compare two `bfcl eval --out` directories entry by entry (McNemar's exact test per category
    and summary): whether a difference is outside the noise, on the entries both scored."""
    from inftool_dagster.bfcl import BFCLDataError
    from inftool_dagster.evaluation.paired import compare_runs

    try:
        _emit(compare_runs(first, second))
    except (BFCLDataError, FileNotFoundError, KeyError) as exc:
        raise click.ClickException(f"not two bfcl eval directories: {exc}") from None


# --- serving ----------------------------------------------------------------
@main.command("serve")
@click.option("--model", "model_name", default=DEFAULT_MODEL, help="Embedded name, local checkpoint or cached hub id.")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=8000, type=int)
@click.option("--device", default="cpu")
@click.option(
    "--tool-format",
    type=click.Choice(["auto", "native", "prompt"]),
    default=_default(TransformersConfig, "tool_format"),
)
@click.option(
    "--dtype",
    type=click.Choice(["auto", "float32", "bfloat16", "float16"]),
    default=_default(TransformersConfig, "dtype"),
)
@click.option(
    "--max-batch", default=64, type=int, show_default=True, help="Concurrent requests decoded together in one batch."
)
def serve(model_name: str, host: str, port: int, device: str, tool_format: str, dtype: str, max_batch: int) -> None:
    """OpenAI-compatible /v1/chat/completions (tools in, tool_calls out) and /v1/models; concurrent
    requests are decoded together."""
    import uvicorn

    from inftool_dagster.llm.backend import TransformersConfig
    from inftool_dagster.llm.serve import create_app
    from inftool_dagster.llm.transformers_backend import TransformersBackend

    backend = TransformersBackend(
        TransformersConfig(model=model_name, device=device, tool_format=tool_format, dtype=dtype, slots=max_batch)
    )
    click.echo(f"serving {model_name} at http://{host}:{port}/v1 ({backend.decoder} decoding)", err=True)
    uvicorn.run(create_app(backend, model_name, max_batch=max_batch), host=host, port=port, log_level="warning")


@main.command("export")
@click.option(
    "--home", default=None, help="Artifacts and Dagster instance root (default: $INFTOOL_HOME or ./.inftool)."
)
@click.option("--round", "round_key", default=None, help="The round to export (default: the best BFCL dev score).")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False))
def export_cmd(home, round_key, out_dir):
    """A round's policy as a self-contained Hugging Face directory (weights, tokenizer with a chat
    template for tools, generation config, model card with its test-split scores); one JSON line."""
    from inftool_dagster.models.export import ExportError, export_model
    from inftool_dagster.resources.workspace import default_home

    try:
        record = export_model(home or default_home(), out_dir, round_key)
    except ExportError as exc:
        raise click.ClickException(str(exc)) from None
    _emit({k: record[k] for k in ("round", "chosen_by", "dev_scores", "reproduce")} | {"out": out_dir})


# --- rounds ------------------------------------------------------------------
@main.group("round")
def round_group() -> None:
    """Run rounds of the loop on a persistent Dagster instance."""


@round_group.command("run")
@click.option(
    "--home", default=None, help="Artifacts and Dagster instance root (default: $INFTOOL_HOME or ./.inftool)."
)
@click.option("--round", "round_key", default=None, help="Round partition key (default r0000).")
@click.option("--specs", multiple=True, help="Spec files/dirs/.tgz (default: the bundled samples).")
@click.option(
    "--config",
    "config_file",
    default=None,
    type=click.Path(exists=True, dir_okay=False),
    help="Dagster run config (YAML): resources and ops config, e.g. a smaller model or fewer steps.",
)
def round_run(home: str | None, round_key: str | None, specs: tuple[str, ...], config_file: str | None) -> None:
    """Materialize one round's assets (and run their checks) in Dagster; a round that was killed
    or failed resumes at its first asset without a materialization."""
    import yaml

    from inftool_dagster.resources.workspace import default_home
    from inftool_dagster.runs.round_runner import run_round

    run_config = yaml.safe_load(Path(config_file).read_text()) if config_file else None
    summary = run_round(
        home or default_home(), round_key=round_key, spec_paths=list(specs) or None, run_config=run_config
    )
    if summary.get("resumed_from"):
        click.echo(f"resumed round {summary['round']} at {summary['resumed_from']}", err=True)
    click.echo(
        f"round {summary['round']}: {'succeeded' if summary['success'] else 'FAILED'}; artifacts in "
        f"{summary['artifacts']}; see the run in the UI with `inftool ui`",
        err=True,
    )
    _emit(summary)
    if not summary["success"]:
        sys.exit(1)


@main.command("ui")
@click.option("--home", default=None, help="Same as for `inftool round run`.")
@click.option("--port", default=3000, type=int)
def ui(home: str | None, port: int) -> None:
    """Start `dagster dev` on this project's definitions and instance."""
    from inftool_dagster.resources.workspace import default_home
    from inftool_dagster.runs.round_runner import prepare_dagster_home

    prepare_dagster_home(Path(home or default_home()).resolve())
    cmd = [sys.executable, "-m", "dagster", "dev", "-m", "inftool_dagster.definitions", "-p", str(port)]
    sys.exit(subprocess.call(cmd, env=os.environ.copy()))


if __name__ == "__main__":  # pragma: no cover
    main()
