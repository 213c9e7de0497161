"""The MLflow pyfunc: a fine-tuned folder as artifact, six probability columns out.

`ToxicityModel` is what MLflow pickles, loads and calls; the HTTP service, evaluation and the
benchmark use its public methods and read-only properties, never its private state.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
import torch
from mlflow.models import ModelSignature
from mlflow.pyfunc import PythonModel, PythonModelContext
from mlflow.types import ColSpec, ParamSchema, ParamSpec, Schema

from toxicity_pyfunc.served.batching import Encoded, tokenize
from toxicity_pyfunc.served.coalescing import Coalescer
from toxicity_pyfunc.served.inputs import texts_from_input
from toxicity_pyfunc.served.labels import LABELS, TEXT_COLUMN
from toxicity_pyfunc.served.lexical import LexicalScorer, blend
from toxicity_pyfunc.served.settings import InferenceSettings
from toxicity_pyfunc.served.spans import Span, Word, scored_words, spans_from_words
from toxicity_pyfunc.served.spelling import (
    Reading,
    Speller,
    plain_spelling,
    spelling_vocabulary,
    visible,
    whole_words,
)

ARTIFACT_KEY = "classifier"  # the name of the fine-tuned folder among the model's artifacts
GPU_BATCH_SIZE = 512  # rows per forward pass on a GPU: bf16 MiniLM needs this many to fill an H100
# On a GPU every new batch shape costs time on first use; widths rounded up to this many tokens
# keep the shapes few (a handful up to max_length) for a little padding the GPU does not notice.
GPU_PAD_MULTIPLE = 32
# No word piece is longer than this many characters in practice: a text longer than
# max_length x CHARACTERS_PER_TOKEN is cut there before tokenizing, and still cut at max_length.
CHARACTERS_PER_TOKEN = 32

SPANS_PARAM = "spans"
_COALESCER_LOCK = threading.Lock()
SIGNATURE = ModelSignature(
    inputs=Schema([ColSpec("string", TEXT_COLUMN)]),
    outputs=Schema([ColSpec("double", label) for label in LABELS]),
    # {"params": {"spans": true}} adds a `spans` column: per text, a list of toxic character spans.
    params=ParamSchema([ParamSpec(SPANS_PARAM, "boolean", False)]),
)
INPUT_EXAMPLE = pd.DataFrame({TEXT_COLUMN: ["you are a stupid idiot", "have a nice day"]})


@dataclass(frozen=True)
class Scored:
    """Scores (texts x LABELS), per text whether it was cut to the model's token limit, and its
    toxic spans when they were asked for (within the part the model read)."""

    scores: np.ndarray
    truncated: list[bool]
    spans: list[list[Span]] | None = None
    words: list[list[Word]] | None = None  # every word read, scored: spans at any threshold


@dataclass
class _Tokens:
    """Token ids cut to the limit, which texts were cut, and (for spans) offsets and word ids."""

    encoded: Encoded
    cut: list[bool]
    offsets: list[list[tuple[int, int]]] | None = None
    word_ids: list[list[int | None]] | None = None


class ModelNotLoadedError(RuntimeError):
    """Scoring was asked of a model whose folder was never loaded."""


class ToxicityModel(PythonModel):
    """Loads the fine-tuned folder once; scores texts in length-sorted batches.

    Where `train` kept a TF-IDF companion (a blend weight above 0 in the settings), the encoder's
    probabilities are blended with it in logit space.
    """

    def __init__(self) -> None:
        self._settings: InferenceSettings | None = None
        self._tokenizer: Any = None
        self._forward: Any = None
        self._companion: LexicalScorer | None = None
        self._runtime = "none"
        self._folder: Path | None = None
        self._trailing_special = True
        self._spelling_words: frozenset[str] | None = None  # for repeated and spaced letters
        self._speller: Speller | None = None  # for swapped and dropped letters, words run together
        self._coalescer: Coalescer | None = None
        self._on_batch: Callable[[int], None] | None = None

    def __getstate__(self) -> dict[str, Any]:
        # Only the class travels in python_model.pkl (an unloaded instance's state); the weights
        # and the companion live in the artifact folder.
        return type(self)().__dict__

    # Loading

    def load_context(self, context: PythonModelContext) -> None:
        self.load_folder(Path(context.artifacts[ARTIFACT_KEY]))

    @classmethod
    def from_folder(cls, folder: Path) -> ToxicityModel:
        """A model loaded straight from a fine-tuned folder, without MLflow."""
        model = cls()
        model.load_folder(folder)
        return model

    @classmethod
    def assemble(
        cls,
        settings: InferenceSettings,
        tokenizer: Any,
        forward: Any,
        runtime: str,
        companion: LexicalScorer | None = None,
    ) -> ToxicityModel:
        """A model from parts in memory (training checks the served behaviour before saving)."""
        model = cls()
        model._settings, model._tokenizer, model._forward, model._runtime = (
            settings,
            tokenizer,
            forward,
            runtime,
        )
        model._companion = companion
        model._trailing_special = model._ends_with_special()
        model._read_spelling_with(tokenizer)
        return model

    def _batches(self) -> Coalescer:
        """The batching worker of this model, made on first use (never pickled)."""
        with _COALESCER_LOCK:
            if self._coalescer is None:
                if self._forward is None:
                    raise ModelNotLoadedError(
                        "the model's folder is not loaded (load_folder or load_context)"
                    )
                on_gpu = self._runtime == "torch-cuda"
                settings = self.settings
                self._coalescer = Coalescer(
                    self._forward,
                    self._tokenizer.pad_token_id or 0,
                    # A padded-token budget per batch: on a CPU small (best in make bench); on a GPU
                    # large, so that short texts are not padded to a long one of another request.
                    GPU_BATCH_SIZE if on_gpu else settings.batch_size,
                    (settings.gpu_token_budget or None) if on_gpu else settings.token_budget,
                    on_batch=self._on_batch,
                    pad_multiple=GPU_PAD_MULTIPLE if on_gpu else 1,
                )
            return self._coalescer

    def observe_batches(self, callback: Callable[[int], None]) -> None:
        """Have `callback` told the number of texts of every forward pass (a server's metrics)."""
        with _COALESCER_LOCK:
            self._on_batch = callback
            if self._coalescer is not None:
                self._coalescer.on_batch = callback

    def _ends_with_special(self) -> bool:
        ends = self._tokenizer("a")["input_ids"]
        return bool(ends) and ends[-1] in set(self._tokenizer.all_special_ids)

    def load_folder(self, folder: Path) -> None:
        """Load the tokenizer and the runtime recorded in the settings (PyTorch on any GPU)."""
        from toxicity_pyfunc.served.network import load_network, load_tokenizer
        from toxicity_pyfunc.served.runtimes import RUNTIME_FILES, onnx_forward, torch_forward

        settings = InferenceSettings.read(folder)
        self._folder, self._settings, self._coalescer = folder, settings, None
        self._companion = LexicalScorer.load(folder) if settings.lexical_weight > 0 else None
        self._tokenizer = load_tokenizer(folder)
        runtime_file = RUNTIME_FILES.get(settings.runtime)
        if runtime_file and (folder / runtime_file).exists() and not torch.cuda.is_available():
            self._forward, self._runtime = onnx_forward(folder / runtime_file), settings.runtime
        else:
            network = load_network(folder, settings.architecture, settings.pooling, len(LABELS))
            device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
            network.to(device)
            self._forward, self._runtime = torch_forward(network, device), f"torch-{device.type}"
        self._trailing_special = self._ends_with_special()
        self._read_spelling_with(self._tokenizer)

    def _read_spelling_with(self, tokenizer: Any) -> None:
        """What `plain_spelling` reads with: the tokenizer's words and the companion's are known."""
        self._spelling_words, self._speller = None, None
        if self.settings.plain_spelling:
            own = whole_words(tokenizer)
            self._spelling_words = spelling_vocabulary(tokenizer, own)
            self._speller = Speller(own | (self._companion.words() if self._companion else set()))

    # What the model is (read-only)

    @property
    def settings(self) -> InferenceSettings:
        if self._settings is None:
            raise ModelNotLoadedError("the model's folder is not loaded (load_folder or load_context)")
        return self._settings

    @property
    def max_length(self) -> int:
        """Tokens the model reads; longer texts are truncated (and `Scored.truncated` says so)."""
        return self.settings.max_length

    @property
    def thresholds(self) -> Mapping[str, float]:
        """Per label, the score at or above which a text is flagged (chosen on validation)."""
        return MappingProxyType(self.settings.thresholds)

    @property
    def runtime(self) -> str:
        """What runs the encoder: "onnx-int8", "onnx", "torch-cpu" or "torch-cuda" ("none" unloaded)."""
        return self._runtime

    @property
    def folder(self) -> Path | None:
        """The loaded fine-tuned folder (None before loading)."""
        return self._folder

    @property
    def has_spans(self) -> bool:
        """Whether the model was trained to find toxic spans (its token head and threshold)."""
        return self.settings.span_threshold is not None

    @property
    def companion(self) -> LexicalScorer | None:
        """The TF-IDF companion, or None where the encoder serves alone."""
        return self._companion

    # Scoring

    def predict(
        self,
        context: PythonModelContext | None,
        model_input: pd.DataFrame,
        params: dict[str, Any] | None = None,
    ) -> pd.DataFrame:
        spans = bool((params or {}).get(SPANS_PARAM, False))
        result = self.analyze(texts_from_input(model_input), spans=spans)
        frame = pd.DataFrame(result.scores, columns=list(LABELS))
        if result.spans is not None:
            frame[SPANS_PARAM] = [[span.as_dict() for span in found] for found in result.spans]
        return frame

    def score(self, texts: Sequence[str]) -> np.ndarray:
        """Probabilities, texts x LABELS. Empty or whitespace-only text scores 0, model not run."""
        return self.analyze(texts).scores

    def analyze(
        self,
        texts: Sequence[str],
        *,
        spans: bool = False,
        should_stop: Callable[[], bool] | None = None,
        blend: bool = True,
    ) -> Scored:
        """Scores, truncation flags and (when asked) toxic spans, from one tokenization and one pass.

        `spans` on a model without a token head answers empty span lists. `should_stop` is asked
        before each batch; when it says yes, `ScoringStoppedError` is raised and the rest of the
        work is dropped (the HTTP service stops work for clients that left). `blend=False` gives
        the encoder's scores without the TF-IDF companion (evaluation compares the two).
        """
        from toxicity_pyfunc.served.runtimes import ScoringStoppedError

        if should_stop is not None and should_stop():
            raise ScoringStoppedError("stopped before any work")
        scores = np.zeros((len(texts), len(LABELS)), dtype=np.float64)
        truncated = [False] * len(texts)
        found: list[list[Span]] | None = [[] for _ in texts] if spans else None
        words: list[list[Word]] | None = [[] for _ in texts] if spans else None
        filled = [i for i, text in enumerate(texts) if text.strip()]
        if not filled:
            return Scored(scores, truncated, found, words)
        settings = self.settings
        # A text far longer than the model reads is cut first (the tokenizer and the companion
        # would otherwise work through megabytes for tokens nobody reads); it counts as truncated.
        budget = settings.max_length * CHARACTERS_PER_TOKEN
        filled_texts = [texts[i][:budget] for i in filled]
        readings = [self.reading(text) for text in filled_texts]
        filled_texts = [reading.text for reading in readings]
        with_spans = spans and settings.span_threshold is not None
        tokens = self._encode(filled_texts, offsets=with_spans)
        # Shared with every other caller of this model: concurrent requests ride in the same batches.
        encoder_scores, token_scores = self._batches().score(
            tokens.encoded, tokens=with_spans, should_stop=should_stop
        )
        scores[filled] = self.with_companion(filled_texts, encoder_scores) if blend else encoder_scores
        for position, row in enumerate(filled):
            truncated[row] = tokens.cut[position] or len(texts[row]) > budget
            if found is not None and words is not None and token_scores is not None and tokens.offsets:
                assert tokens.word_ids is not None
                words[row] = readings[position].words_as_sent(
                    scored_words(tokens.offsets[position], tokens.word_ids[position], token_scores[position])
                )
                threshold = settings.span_threshold if settings.span_threshold is not None else 0.5
                found[row] = spans_from_words(texts[row], words[row], threshold, settings.span_gate)
        return Scored(scores, truncated, found, words)

    def reading(self, text: str) -> Reading:
        """`text` as the encoder reads it: with `plain_spelling`, disguised spellings read plainly."""
        if not self.settings.plain_spelling:
            return Reading(text)
        text = plain_spelling(text, self._spelling_words)  # one character for one
        return self._speller.read(text) if self._speller is not None else Reading(text)

    def with_companion(self, texts: Sequence[str], encoder_scores: np.ndarray) -> np.ndarray:
        """The encoder's probabilities for `texts`, blended with the TF-IDF companion if there is one."""
        if self._companion is None:
            return encoder_scores
        readable = [visible(text) for text in texts]  # its analyzer splits words at invisible characters
        return blend(encoder_scores, self._companion.logits(readable), self.settings.lexical_weight)

    def flagged(self, scores: np.ndarray) -> list[list[str]]:
        """Per text, the labels scored at or above the model's threshold for them."""
        cuts = np.array([self.settings.thresholds[label] for label in LABELS])
        return [[label for label, hit in zip(LABELS, row, strict=True) if hit] for row in scores >= cuts]

    def _encode(self, texts: list[str], *, offsets: bool = False) -> _Tokens:
        """Token ids cut to the model's limit, which texts were cut, and offsets for spans.

        One call of the fast tokenizer with room for one more token tells which texts are too
        long; those are cut as the tokenizer would have cut them (content first, closing special
        token kept), so a text is tokenized once.
        """
        if self._tokenizer is None:
            raise ModelNotLoadedError("the model's folder is not loaded (load_folder or load_context)")
        limit = self.max_length
        encoding = tokenize(self._tokenizer, texts, limit + 1, offsets=offsets)
        ids: list[list[int]] = encoding["input_ids"]
        spans_of = [list(row) for row in encoding["offset_mapping"]] if offsets else None
        words_of = [encoding.word_ids(i) for i in range(len(texts))] if offsets else None
        cut = [len(row) > limit for row in ids]
        for index in (i for i, was_cut in enumerate(cut) if was_cut):
            ids[index] = self._cut(ids[index], limit)
            if spans_of is not None and words_of is not None:
                spans_of[index] = self._cut(spans_of[index], limit)
                words_of[index] = self._cut(words_of[index], limit)
        return _Tokens(Encoded(ids), cut, spans_of, words_of)

    def _cut(self, row: list[Any], limit: int) -> list[Any]:
        return row[: limit - 1] + row[-1:] if self._trailing_special else row[:limit]
