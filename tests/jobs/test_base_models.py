"""Model building: the offline MiniLM, the DistilBERT path, and order-preserving scoring."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from toxicity_pyfunc.jobs.scoring import score_texts
from toxicity_pyfunc.jobs.training.base_models import build_classifier, resolve_base_model
from toxicity_pyfunc.served.labels import LABELS


def test_minilm_resolves_to_bundled_folder() -> None:
    folder = Path(resolve_base_model("minilm"))
    assert (folder / "config.json").exists()
    assert (folder / "model.safetensors").exists()


def test_hub_names_pass_through_and_folders_resolve(tmp_path: Path) -> None:
    assert resolve_base_model("distilbert-base-uncased") == "distilbert-base-uncased"
    assert resolve_base_model(str(tmp_path)) == str(tmp_path.resolve())


def test_minilm_classifier_has_six_named_outputs() -> None:
    model, tokenizer = build_classifier("minilm")
    assert model.config.num_labels == 6
    assert [model.config.id2label[i] for i in range(6)] == list(LABELS)
    assert model.config.problem_type == "multi_label_classification"
    assert model.config.model_type == "bert"
    assert tokenizer("hello world")["input_ids"][0] == tokenizer.cls_token_id


def test_distilbert_path_with_bundled_vocabulary(tiny_distilbert: Path) -> None:
    model, tokenizer = build_classifier(str(tiny_distilbert))
    _, minilm_tokenizer = build_classifier("minilm")
    assert model.config.model_type == "distilbert"
    assert model.config.num_labels == 6
    text = "you are a stupid idiot"
    # Same vocabulary file, so the same ids: the vocabulary was really read, not a default one.
    assert tokenizer(text)["input_ids"] == minilm_tokenizer(text)["input_ids"]
    assert tokenizer.vocab_size == minilm_tokenizer.vocab_size


def test_scores_keep_input_order_despite_length_sorting(tiny_distilbert: Path) -> None:
    torch.manual_seed(0)
    model, tokenizer = build_classifier(str(tiny_distilbert))
    model.eval()
    texts = ["a much longer sentence than the others, with many more words in it", "short", "mid size text"]
    together = score_texts(model, tokenizer, texts, max_length=32, batch_size=2)
    one_by_one = np.vstack([score_texts(model, tokenizer, [t], max_length=32, batch_size=1) for t in texts])
    assert together.shape == (3, 6)
    np.testing.assert_allclose(together, one_by_one, atol=1e-5)
    assert ((together > 0) & (together < 1)).all()


def test_long_text_is_truncated_not_rejected(tiny_distilbert: Path) -> None:
    model, tokenizer = build_classifier(str(tiny_distilbert))
    model.eval()
    scores = score_texts(model, tokenizer, ["word " * 5000], max_length=64, batch_size=8)
    assert scores.shape == (1, 6)
