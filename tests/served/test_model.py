"""The pyfunc: what it keeps out of its pickle, how it scores, and what it tells about itself."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from toxicity_pyfunc.served.labels import LABELS
from toxicity_pyfunc.served.lexical import blend
from toxicity_pyfunc.served.model import ModelNotLoadedError, ToxicityModel
from toxicity_pyfunc.served.settings import InferenceSettings


def test_pickle_never_carries_weights(minilm_trained) -> None:
    model = ToxicityModel.from_folder(minilm_trained.saved_folder)
    assert model.runtime != "none"
    restored = pickle.loads(pickle.dumps(model))
    assert restored.runtime == "none"
    assert restored.folder is None
    assert restored.companion is None
    assert len(pickle.dumps(model)) < 2_000


def test_loaded_folder_scores_in_input_order(minilm_trained) -> None:
    model = ToxicityModel.from_folder(minilm_trained.saved_folder)
    texts = ["have a nice day", "you are a stupid idiot", "thanks for the help"]
    together = model.predict(None, pd.DataFrame({"text": texts}))
    reverse = model.predict(None, pd.DataFrame({"text": texts[::-1]}))
    pd.testing.assert_frame_equal(together, reverse.iloc[::-1].reset_index(drop=True), atol=1e-5)


@pytest.fixture(scope="module")
def encoder_alone(minilm_trained, tmp_path_factory: pytest.TempPathFactory) -> ToxicityModel:
    """The same folder with the companion's weight set to 0 in its settings: the encoder alone."""
    folder = tmp_path_factory.mktemp("alone") / "classifier"
    shutil.copytree(minilm_trained.saved_folder, folder)
    settings = InferenceSettings.read(folder)
    InferenceSettings.model_validate(settings.model_dump() | {"lexical_weight": 0.0}).write(folder)
    return ToxicityModel.from_folder(folder)


def test_scores_blend_the_encoder_with_the_tfidf_companion(
    encoder_alone, sample_data, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A folder whose settings give a companion a weight serves the logit blend of the two."""
    from toxicity_pyfunc.jobs.data import load_labelled
    from toxicity_pyfunc.jobs.training.companion import fit_lexical, save_lexical

    assert encoder_alone.folder is not None
    folder = tmp_path_factory.mktemp("blended") / "classifier"
    shutil.copytree(encoder_alone.folder, folder)
    save_lexical(fit_lexical(load_labelled(sample_data / "train.csv")), folder)
    weight = 0.4
    InferenceSettings.model_validate(encoder_alone.settings.model_dump() | {"lexical_weight": weight}).write(
        folder
    )
    model = ToxicityModel.from_folder(folder)
    assert model.companion is not None
    assert encoder_alone.companion is None
    texts = ["have a nice day", "you are a stupid idiot"]
    served = model.predict(None, pd.DataFrame({"text": texts})).to_numpy()
    alone = encoder_alone.predict(None, pd.DataFrame({"text": texts})).to_numpy()
    np.testing.assert_allclose(served, blend(alone, model.companion.logits(texts), weight), rtol=1e-5)
    assert not np.allclose(served, alone)
    np.testing.assert_allclose(model.analyze(texts, blend=False).scores, alone, rtol=1e-5)


def test_analyze_says_which_texts_were_cut_and_scores_them_as_cut(encoder_alone) -> None:
    model = encoder_alone
    limit = model.max_length
    exact = " ".join(["word"] * (limit - 2))  # [CLS] + limit - 2 words + [SEP]: just fits
    longer = exact + " idiot idiot idiot"
    result = model.analyze(["", exact, longer, "short"])
    assert result.truncated == [False, False, True, False]
    assert (result.scores[0] == 0).all()  # empty text: not run, all zeros
    # A text cut at the limit scores like its first `limit` tokens: the extra words are not read.
    np.testing.assert_allclose(result.scores[2], result.scores[1], atol=1e-6)


def test_thresholds_and_flags_come_from_the_settings(minilm_trained) -> None:
    model = ToxicityModel.from_folder(minilm_trained.saved_folder)
    assert dict(model.thresholds) == model.settings.thresholds
    with pytest.raises(TypeError):
        model.thresholds["toxicity"] = 0.0  # type: ignore[index]
    cuts = np.array([model.thresholds[label] for label in LABELS])
    scores = np.vstack([cuts, np.clip(cuts - 1e-3, 0, 1)])
    assert model.flagged(scores) == [
        list(LABELS),
        [label for label, cut in zip(LABELS, cuts, strict=True) if cut < 1e-3],
    ]


def test_an_unloaded_model_says_so() -> None:
    with pytest.raises(ModelNotLoadedError, match="not loaded"):
        ToxicityModel().analyze(["hello"])


def test_a_folder_saved_before_the_token_head_still_loads_and_scores(tiny_distilbert, tmp_path: Path) -> None:
    """Champions logged by earlier versions (a Hugging Face sequence classifier) keep serving."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    folder = tmp_path / "classifier"
    model = AutoModelForSequenceClassification.from_pretrained(
        str(tiny_distilbert), num_labels=len(LABELS), ignore_mismatched_sizes=True
    )
    model.save_pretrained(folder)
    AutoTokenizer.from_pretrained(str(tiny_distilbert)).save_pretrained(folder)
    (folder / "inference.json").write_text('{"max_length": 32, "batch_size": 64, "runtime": "torch"}')
    legacy = ToxicityModel.from_folder(folder)
    assert legacy.settings.architecture == "sequence-classifier"
    assert not legacy.has_spans
    result = legacy.analyze(["you are a stupid idiot", "have a nice day"], spans=True)
    assert result.scores.shape == (2, len(LABELS))
    assert result.spans == [[], []]


def test_concurrent_callers_share_batches_and_get_their_own_scores(
    encoder_alone, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Sixteen single-text callers at once each get what they get alone.

    Checked on the PyTorch runtime of the same weights, where a row's scores do not depend on its
    batch-mates; dynamic int8 scales activations per batch, so there a score moves a little with
    the company it is batched with (docs/performance.md measures how much).
    """
    from concurrent.futures import ThreadPoolExecutor

    assert encoder_alone.folder is not None
    folder = tmp_path_factory.mktemp("torch") / "classifier"
    shutil.copytree(encoder_alone.folder, folder)
    InferenceSettings.model_validate(encoder_alone.settings.model_dump() | {"runtime": "torch"}).write(folder)
    model = ToxicityModel.from_folder(folder)
    assert model.runtime == "torch-cpu"
    texts = [f"comment number {i}: you are {'a stupid idiot' if i % 2 else 'very kind'}" for i in range(16)]
    alone = np.vstack([model.score([text]) for text in texts])
    with ThreadPoolExecutor(max_workers=16) as pool:
        together = np.vstack(list(pool.map(lambda text: model.score([text]), texts)))
    np.testing.assert_allclose(together, alone, atol=1e-4)


@pytest.mark.parametrize("plain", [True, False])
def test_disguised_letters_are_read_as_plain_when_the_settings_say_so(
    minilm_trained, tmp_path: Path, plain: bool
) -> None:
    folder = tmp_path / "classifier"
    shutil.copytree(minilm_trained.saved_folder, folder)
    changes = {"plain_spelling": plain, "span_threshold": 0.0}  # every word in a span
    InferenceSettings.model_validate(InferenceSettings.read(folder).model_dump() | changes).write(folder)
    model = ToxicityModel.from_folder(folder)
    sent = "what a sh!t idea, you id10t, stuuupid i d i o t, an idoit, shut up youidiot"
    said = "what a shit idea, you idiot, stupid idiot, an idiot, shut up you idiot"
    result = model.analyze([sent, said], spans=True)
    assert np.allclose(result.scores[0], result.scores[1], atol=1e-6) == plain
    assert result.words is not None
    assert result.spans is not None
    # Read plain, "sh!t" is one word (characters 7 to 11); as sent, "sh", "!" and "t". So are
    # "stuuupid" and "i d i o t" (characters 29 to 37 and 38 to 47). "youidiot" is read as two
    # words, "you" (characters 67 to 70) and "idiot" (70 to 75), a character longer than sent.
    words = {(begin, end) for begin, end, _ in result.words[0]}
    only_read = {(7, 11), (38, 47), (67, 70), (70, 75)}  # "idoit" and "stuuupid" are words either way
    assert only_read | {(29, 37), (52, 57)} <= words if plain else not words & only_read
    # Either way the offsets index the text as sent, and the spans quote it.
    assert all(span.text == sent[span.begin : span.end] for span in result.spans[0])
    assert any("sh!t" in span.text for span in result.spans[0])


@pytest.mark.parametrize("budget", [0, 64])
def test_gpu_batches_keep_short_texts_apart_from_a_long_one(encoder_alone, budget: int) -> None:
    """On a GPU, batches are capped in padded tokens too (`gpu_token_budget`): a request's short
    texts are not padded to its one long text. The same scores either way.

    The GPU path is chosen by the runtime's name; the passes themselves run on this CPU.
    """
    import torch

    from toxicity_pyfunc.served.network import load_classifier
    from toxicity_pyfunc.served.runtimes import torch_forward

    assert encoder_alone.folder is not None
    classifier, tokenizer = load_classifier(encoder_alone.folder)
    run = torch_forward(classifier.eval(), torch.device("cpu"))
    widths: list[tuple[int, int]] = []

    def recording(batch: dict[str, torch.Tensor], tokens: bool) -> tuple[np.ndarray, np.ndarray | None]:
        widths.append(tuple(batch["input_ids"].shape))
        return run(batch, tokens)

    settings = encoder_alone.settings.model_copy(update={"gpu_token_budget": budget})
    model = ToxicityModel.assemble(settings, tokenizer, recording, "torch-cuda")
    texts = ["you idiot", "nice day", "thanks", "go away", "a long comment " * 20]
    scores = model.score(texts)
    if budget:
        assert len(widths) >= 2
        assert min(width for _, width in widths) == 32  # the four short texts, padded to 32 tokens
    else:
        assert len(widths) == 1  # all five in one batch, padded to the long one
        rows, width = widths[0]
        assert rows == 5
        assert width > 32
    cpu = ToxicityModel.assemble(settings, tokenizer, run, "torch-cpu")
    np.testing.assert_allclose(scores, cpu.score(texts), atol=1e-4)
