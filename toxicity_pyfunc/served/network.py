"""The model definition: a pretrained encoder, a six-label head and a per-token head.

The sequence head reads the encoder's tokens mean-pooled (the representation a sentence encoder
such as all-MiniLM-L6-v2 was trained to produce) or its `[CLS]` token; the token head scores
every token as part of a toxic span or not, from the same forward pass. A folder holds the
encoder as Hugging Face saves it (`config.json`, `model.safetensors`), the two heads in
`heads.safetensors`, and the tokenizer.

Folders written before the token head (a Hugging Face sequence classifier) still load: their
settings name the older architecture, and they answer without spans.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, NamedTuple

import torch
from torch import nn

HEADS_FILE = "heads.safetensors"
Pooling = Literal["mean", "cls"]
# Encoders that build a pooler layer by default; the heads read the tokens, so it is left out.
_WITH_POOLER = frozenset({"bert", "roberta", "xlm-roberta", "mpnet"})


def load_encoder(source: str, **kwargs: Any) -> Any:
    """A pretrained encoder without its pooler layer (nothing here reads it)."""
    from transformers import AutoConfig, AutoModel

    if AutoConfig.from_pretrained(source).model_type in _WITH_POOLER:
        kwargs["add_pooling_layer"] = False
    return AutoModel.from_pretrained(source, **kwargs)


class NetworkOutput(NamedTuple):
    """Six logits per text and one logit per token (toxic span or not)."""

    logits: torch.Tensor
    token_logits: torch.Tensor


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """The average of the real (unpadded) tokens' vectors."""
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)


class ToxicityNetwork(nn.Module):
    """Encoder + sequence head (six labels) + token head (toxic spans)."""

    def __init__(
        self, encoder: Any, num_labels: int, pooling: Pooling = "mean", dropout: float = 0.1
    ) -> None:
        super().__init__()
        self.encoder = encoder
        self.pooling = pooling
        hidden = int(encoder.config.hidden_size)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(hidden, num_labels)
        self.token_classifier = nn.Linear(hidden, 1)

    @property
    def config(self) -> Any:
        return self.encoder.config

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> NetworkOutput:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        pooled = mean_pool(hidden, attention_mask) if self.pooling == "mean" else hidden[:, 0]
        logits = self.classifier(self.dropout(pooled))
        token_logits = self.token_classifier(self.dropout(hidden)).squeeze(-1)
        return NetworkOutput(logits, token_logits)

    def heads_state(self) -> dict[str, torch.Tensor]:
        return {
            f"{name}.{key}": value.detach().contiguous()
            for name in ("classifier", "token_classifier")
            for key, value in getattr(self, name).state_dict().items()
        }

    def save(self, folder: Path) -> None:
        """The encoder as Hugging Face saves it, the heads beside it."""
        from safetensors.torch import save_file

        self.encoder.save_pretrained(folder)
        save_file(self.heads_state(), str(folder / HEADS_FILE))

    @classmethod
    def load(cls, folder: Path, num_labels: int, pooling: Pooling) -> ToxicityNetwork:
        from safetensors.torch import load_file

        network = cls(load_encoder(str(folder)), num_labels, pooling)
        heads = load_file(str(folder / HEADS_FILE))
        for name in ("classifier", "token_classifier"):
            getattr(network, name).load_state_dict(
                {key.split(".", 1)[1]: value for key, value in heads.items() if key.startswith(f"{name}.")}
            )
        return network.eval()


class _LegacyOutput(NamedTuple):
    logits: torch.Tensor
    token_logits: None


class LegacyClassifier(nn.Module):
    """A folder saved before the token head: a Hugging Face sequence classifier, no spans."""

    def __init__(self, model: Any) -> None:
        super().__init__()
        self.model = model

    @property
    def config(self) -> Any:
        return self.model.config

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> _LegacyOutput:
        return _LegacyOutput(self.model(input_ids=input_ids, attention_mask=attention_mask).logits, None)


def load_network(folder: Path, architecture: str, pooling: Pooling, num_labels: int) -> nn.Module:
    """The network a folder holds, for inference (eval mode)."""
    if architecture == "encoder-heads":
        return ToxicityNetwork.load(folder, num_labels, pooling)
    from transformers import AutoModelForSequenceClassification

    return LegacyClassifier(AutoModelForSequenceClassification.from_pretrained(str(folder))).eval()


def load_tokenizer(folder: str | Path) -> Any:
    """The fast tokenizer saved beside the weights."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(folder))


def load_classifier(folder: Path) -> tuple[nn.Module, Any]:
    """The network and tokenizer of a saved folder, as its settings describe them."""
    from toxicity_pyfunc.served.labels import LABELS
    from toxicity_pyfunc.served.settings import InferenceSettings

    settings = InferenceSettings.read(folder)
    return load_network(folder, settings.architecture, settings.pooling, len(LABELS)), load_tokenizer(folder)
