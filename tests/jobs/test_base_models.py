"""The network: the offline encoders, both poolings, both heads, saving, and order-preserving scoring."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from toxicity_pyfunc.jobs.config import ConfigError
from toxicity_pyfunc.jobs.scoring import score_texts
from toxicity_pyfunc.jobs.training import base_models
from toxicity_pyfunc.jobs.training.base_models import build_network, resolve_base_model
from toxicity_pyfunc.served.labels import LABELS
from toxicity_pyfunc.served.network import ToxicityNetwork, mean_pool


def test_minilm_resolves_to_bundled_folder() -> None:
    folder = Path(resolve_base_model("minilm"))
    assert (folder / "config.json").exists()
    assert (folder / "model.safetensors").exists()


def test_hub_names_pass_through_and_folders_resolve(tmp_path: Path) -> None:
    assert resolve_base_model("distilbert-base-uncased") == "distilbert-base-uncased"
    assert resolve_base_model(str(tmp_path)) == str(tmp_path.resolve())


@pytest.mark.parametrize("pooling", ["mean", "cls"])
def test_minilm_network_has_six_outputs_and_one_per_token(pooling: str) -> None:
    model, tokenizer = build_network("minilm", pooling)
    model.eval()
    batch = tokenizer(["hello world", "you are a stupid idiot"], padding=True, return_tensors="pt")
    output = model(batch["input_ids"], batch["attention_mask"])
    assert output.logits.shape == (2, len(LABELS))
    assert output.token_logits.shape == batch["input_ids"].shape
    assert model.config.model_type == "bert"
    assert not hasattr(model.encoder, "pooler") or model.encoder.pooler is None  # the heads read tokens
    assert tokenizer("hello world")["input_ids"][0] == tokenizer.cls_token_id


def test_mean_pooling_ignores_padding() -> None:
    hidden = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [100.0, 100.0]]])
    mask = torch.tensor([[1, 1, 0]])
    assert mean_pool(hidden, mask).tolist() == [[2.0, 3.0]]


def test_saved_network_loads_to_the_same_outputs(tmp_path: Path) -> None:
    model, tokenizer = build_network("minilm", "mean")
    model.eval()
    model.save(tmp_path)
    assert {"model.safetensors", "config.json", "heads.safetensors"} <= {p.name for p in tmp_path.iterdir()}
    loaded = ToxicityNetwork.load(tmp_path, len(LABELS), "mean")
    batch = tokenizer(["you are a stupid idiot"], return_tensors="pt")
    with torch.no_grad():
        before, after = model(**batch_inputs(batch)), loaded(**batch_inputs(batch))
    torch.testing.assert_close(before.logits, after.logits)
    torch.testing.assert_close(before.token_logits, after.token_logits)


def test_encoder_cut_to_its_first_layers_keeps_their_weights_and_reloads_cut(tmp_path: Path) -> None:
    full, tokenizer = build_network("minilm", "cls")
    cut, _ = build_network("minilm", "cls", encoder_layers=2)
    assert len(full.encoder.encoder.layer) == 6
    assert len(cut.encoder.encoder.layer) == 2
    assert cut.encoder.config.num_hidden_layers == 2
    for kept, original in zip(cut.encoder.encoder.layer, full.encoder.encoder.layer[:2], strict=True):
        torch.testing.assert_close(kept.state_dict(), original.state_dict())
    cut.eval()
    cut.save(tmp_path)
    loaded = ToxicityNetwork.load(tmp_path, len(LABELS), "cls")
    assert len(loaded.encoder.encoder.layer) == 2
    batch = tokenizer(["you are a stupid idiot"], return_tensors="pt")
    with torch.no_grad():
        torch.testing.assert_close(cut(**batch_inputs(batch)).logits, loaded(**batch_inputs(batch)).logits)


def test_more_layers_than_the_encoder_has_is_named() -> None:
    with pytest.raises(ConfigError, match=r"encoder_layers: 7 is more than the 6 layers of 'minilm'"):
        build_network("minilm", "cls", encoder_layers=7)


def test_mpnet_is_assembled_from_its_packages_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOXICITY_CACHE", str(tmp_path))
    folder = Path(resolve_base_model("mpnet"))
    assert folder == tmp_path / "all-mpnet-base-v2"
    config = json.loads((folder / "config.json").read_text())
    assert (config["model_type"], config["num_hidden_layers"], config["hidden_size"]) == ("mpnet", 12, 768)
    weights = folder / "model.safetensors"
    assert weights.stat().st_size > 400_000_000
    assert [p.name for p in tmp_path.iterdir()] == ["all-mpnet-base-v2"]  # no half-built leftovers
    before = weights.stat().st_mtime_ns
    assert Path(resolve_base_model("mpnet-6")) == folder
    assert weights.stat().st_mtime_ns == before  # taken from the cache, not rebuilt


def test_mpnet_6_is_mpnet_cut_to_six_layers_unless_told_otherwise() -> None:
    six, tokenizer = build_network("mpnet-6", "cls")
    assert (six.encoder.config.model_type, len(six.encoder.encoder.layer)) == ("mpnet", 6)
    three, _ = build_network("mpnet-6", "cls", encoder_layers=3)
    assert len(three.encoder.encoder.layer) == 3
    assert tokenizer("hello world")["input_ids"][0] == tokenizer.cls_token_id


def test_a_missing_mpnet_package_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOXICITY_CACHE", str(tmp_path))
    monkeypatch.setattr(base_models, "MPNET_PARTS", (*base_models.MPNET_PARTS[:4], "no-such-mpnet-part"))
    with pytest.raises(ConfigError, match=r"base_model: MPNet needs the package no-such-mpnet-part"):
        resolve_base_model("mpnet-6")
    assert not list(tmp_path.glob("all-mpnet-base-v2/*"))


def batch_inputs(batch) -> dict:
    return {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}


def test_distilbert_path_with_bundled_vocabulary(tiny_distilbert: Path) -> None:
    model, tokenizer = build_network(str(tiny_distilbert))
    _, minilm_tokenizer = build_network("minilm")
    assert model.config.model_type == "distilbert"
    assert model.classifier.out_features == 6
    text = "you are a stupid idiot"
    # Same vocabulary file, so the same ids: the vocabulary was really read, not a default one.
    assert tokenizer(text)["input_ids"] == minilm_tokenizer(text)["input_ids"]
    assert tokenizer.vocab_size == minilm_tokenizer.vocab_size


def test_scores_keep_input_order_despite_length_sorting(tiny_distilbert: Path) -> None:
    torch.manual_seed(0)
    model, tokenizer = build_network(str(tiny_distilbert))
    model.eval()
    texts = ["a much longer sentence than the others, with many more words in it", "short", "mid size text"]
    together = score_texts(model, tokenizer, texts, max_length=32, batch_size=2)
    one_by_one = np.vstack([score_texts(model, tokenizer, [t], max_length=32, batch_size=1) for t in texts])
    assert together.shape == (3, 6)
    np.testing.assert_allclose(together, one_by_one, atol=1e-5)
    assert ((together > 0) & (together < 1)).all()


def test_long_text_is_truncated_not_rejected(tiny_distilbert: Path) -> None:
    model, tokenizer = build_network(str(tiny_distilbert))
    model.eval()
    scores = score_texts(model, tokenizer, ["word " * 5000], max_length=64, batch_size=8)
    assert scores.shape == (1, 6)
