"""Request and response bodies of the three contracts as pydantic models.

One definition gives the validation (with messages that name the field and the row) and the
OpenAPI document. Texts must be strings of valid Unicode everywhere: a null, a number, a nested
list or a lone surrogate is a 400 that says where, never a score.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    RootModel,
    Tag,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from toxicity_pyfunc.served.labels import LABELS

Label = Literal[LABELS]  # type: ignore[valid-type]


def _valid_unicode(text: str) -> str:
    """Refuse lone surrogates ("\\ud800"): JSON can carry them, no tokenizer or answer can."""
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as error:
            raise PydanticCustomError(
                "invalid_unicode",
                "holds a lone surrogate at character {position}; send valid Unicode",
                {"position": error.start},
            ) from None
    return text


Text = Annotated[str, AfterValidator(_valid_unicode)]


class Strict(BaseModel):
    """No type coercion: "1" is not a number and 1 is not a text."""

    model_config = ConfigDict(strict=True, extra="ignore")


class Scores(Strict):
    """Six independent probabilities."""

    toxicity: float = Field(ge=0, le=1)
    severe_toxicity: float = Field(ge=0, le=1)
    obscene: float = Field(ge=0, le=1)
    identity_attack: float = Field(ge=0, le=1)
    insult: float = Field(ge=0, le=1)
    threat: float = Field(ge=0, le=1)


class SpanOut(Strict):
    """A toxic span: characters `begin` to `end` (exclusive) of the text as sent, in code points."""

    begin: int = Field(ge=0)
    end: int = Field(ge=0)
    text: str
    score: float = Field(ge=0, le=1)


class ErrorDetail(Strict):
    code: int = Field(description="the HTTP status")
    message: str = Field(description="what is wrong, and where")


class ErrorBody(Strict):
    """Every error of /predict and /invocations (the Perspective route answers Perspective's shape)."""

    error: ErrorDetail


# /predict


class PredictRequest(Strict):
    """The original service: one text, or a list of texts."""

    text: Text | list[Text] = Field(description="a text, or a list of texts (answered as lists)")
    spans: bool = Field(default=False, description="also answer the toxic spans of each text")


class PredictResponse(Strict):
    """Scores, truncation and flags: single values for a text, lists for a list of texts."""

    response: Scores | list[Scores]
    truncated: bool | list[bool] = Field(description="whether a text was cut to the model's token limit")
    flagged: list[Label] | list[list[Label]] = Field(
        description="the labels at or above the model's threshold for them (chosen on validation)"
    )
    spans: list[SpanOut] | list[list[SpanOut]] | None = Field(
        default=None,
        description="when asked: toxic character spans, merged over word pieces, in text order; for a "
        "truncated text only within the part the model read",
    )


# /invocations (MLflow's scoring protocol, the forms this model's signature takes)


class InvocationParams(Strict):
    """MLflow's `params`, as the model's signature declares them."""

    model_config = ConfigDict(strict=True, extra="forbid")
    spans: bool = Field(default=False, description="add a `spans` column: each text's toxic spans")


class TextRecord(Strict):
    text: Text


class TextColumn(Strict):
    text: Text | list[Text]


class DataframeSplit(Strict):
    columns: list[Literal["text"]] = Field(min_length=1, max_length=1)
    data: list[Annotated[list[Text], Field(min_length=1, max_length=1)]]
    index: list[int] | None = Field(default=None, description="accepted and ignored: answers follow `data`")


class RecordsForm(Strict):
    model_config = ConfigDict(strict=True, extra="forbid")
    dataframe_records: list[TextRecord]
    params: InvocationParams | None = None

    def texts(self) -> list[str]:
        return [row.text for row in self.dataframe_records]


class SplitForm(Strict):
    model_config = ConfigDict(strict=True, extra="forbid")
    dataframe_split: DataframeSplit
    params: InvocationParams | None = None

    def texts(self) -> list[str]:
        return [row[0] for row in self.dataframe_split.data]


def _column_texts(column: TextColumn | list[str]) -> list[str]:
    if isinstance(column, list):
        return column
    return [column.text] if isinstance(column.text, str) else column.text


class InputsForm(Strict):
    model_config = ConfigDict(strict=True, extra="forbid")
    inputs: list[Text] | TextColumn
    params: InvocationParams | None = None

    def texts(self) -> list[str]:
        return _column_texts(self.inputs)


class InstancesForm(Strict):
    model_config = ConfigDict(strict=True, extra="forbid")
    instances: list[TextRecord] | list[Text] | TextColumn
    params: InvocationParams | None = None

    def texts(self) -> list[str]:
        if isinstance(self.instances, list) and self.instances and isinstance(self.instances[0], TextRecord):
            return [row.text for row in self.instances if isinstance(row, TextRecord)]
        return _column_texts(self.instances)  # type: ignore[arg-type]


FORMS = ("dataframe_records", "dataframe_split", "inputs", "instances")


def _form_of(body: Any) -> str | None:
    present = [key for key in FORMS if isinstance(body, dict) and key in body]
    return present[0] if len(present) == 1 else None


class InvocationsRequest(
    RootModel[
        Annotated[
            Annotated[RecordsForm, Tag("dataframe_records")]
            | Annotated[SplitForm, Tag("dataframe_split")]
            | Annotated[InputsForm, Tag("inputs")]
            | Annotated[InstancesForm, Tag("instances")],
            Discriminator(
                _form_of,
                custom_error_type="invocations_form",
                custom_error_message=(
                    "the body needs exactly one of dataframe_records, dataframe_split, inputs, instances"
                ),
            ),
        ]
    ]
):
    """MLflow's JSON forms, each with a `text` column."""

    def texts(self) -> list[str]:
        return self.root.texts()

    def spans(self) -> bool:
        return self.root.params is not None and self.root.params.spans


class PredictionRow(Scores):
    spans: list[SpanOut] | None = Field(default=None, description="with params.spans: the text's toxic spans")


class InvocationsResponse(Strict):
    predictions: list[PredictionRow] = Field(description="one row of six scores per text, in order")


# The Perspective API's AnalyzeComment (v1alpha1)

PERSPECTIVE_ATTRIBUTES: dict[str, str] = {
    "TOXICITY": "toxicity",
    "SEVERE_TOXICITY": "severe_toxicity",
    "IDENTITY_ATTACK": "identity_attack",
    "INSULT": "insult",
    "PROFANITY": "obscene",
    "THREAT": "threat",
}
SUPPORTED_LANGUAGES = ("en",)
AttributeName = Literal["TOXICITY", "SEVERE_TOXICITY", "IDENTITY_ATTACK", "INSULT", "PROFANITY", "THREAT"]


class Comment(Strict):
    text: Text
    type: Literal["PLAIN_TEXT"] | None = None


class AttributeRequest(Strict):
    scoreType: Literal["PROBABILITY"] | None = None  # noqa: N815 (Perspective's field names)
    scoreThreshold: float | None = None  # noqa: N815


class AnalyzeRequest(Strict):
    """What a Perspective client sends; errors carry Perspective's errorType."""

    comment: Comment
    requestedAttributes: dict[AttributeName, AttributeRequest | None] = Field(min_length=1)  # noqa: N815
    languages: list[Annotated[str, Field(pattern=r"^[eE][nN](-[A-Za-z0-9]+)*$")]] | None = Field(
        default=None, description="BCP-47 codes; this model knows English only"
    )
    doNotStore: bool | None = None  # noqa: N815
    clientToken: str | None = Field(default=None, max_length=1024)  # noqa: N815
    sessionId: str | None = Field(default=None, max_length=1024)  # noqa: N815
    communityId: str | None = Field(default=None, max_length=1024)  # noqa: N815
    spanAnnotations: bool | None = Field(  # noqa: N815
        default=None, description="word-level toxic spans in spanScores (Perspective answers sentences)"
    )

    @model_validator(mode="before")
    @classmethod
    def _perspective_errors(cls, body: Any) -> Any:
        """The checks a Perspective client knows by errorType, before the field types."""
        if not isinstance(body, dict):
            raise PydanticCustomError("INVALID_REQUEST", "Request must be a JSON object.")
        comment = body.get("comment")
        if not isinstance(comment, dict) or not isinstance(comment.get("text"), str):
            raise PydanticCustomError("COMMENT_EMPTY", "Comment text must be a string (comment.text).")
        requested = body.get("requestedAttributes")
        if not isinstance(requested, dict) or not requested:
            raise PydanticCustomError(
                "NO_REQUESTED_ATTRIBUTES", "At least one requested attribute must be specified."
            )
        for name, options in requested.items():
            if name not in PERSPECTIVE_ATTRIBUTES:
                raise PydanticCustomError("UNKNOWN_ATTRIBUTE", "Unknown attribute: {name}", {"name": name})
            if isinstance(options, dict) and options.get("scoreType") not in (None, "PROBABILITY"):
                raise PydanticCustomError(
                    "INVALID_SCORE_TYPE",
                    "Unsupported scoreType {kind!r} for {name}.",
                    {"kind": options.get("scoreType"), "name": name},
                )
        languages = body.get("languages")
        if isinstance(languages, list) and all(isinstance(code, str) for code in languages):
            unsupported = [
                code for code in languages if code.split("-")[0].lower() not in SUPPORTED_LANGUAGES
            ]
            if unsupported:
                raise PydanticCustomError(
                    "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE",
                    "Attribute {first} does not support request languages: {codes}",
                    {"first": next(iter(requested)), "codes": ", ".join(unsupported)},
                )
        return body


class SummaryScore(Strict):
    value: float = Field(ge=0, le=1)
    type: Literal["PROBABILITY"] = "PROBABILITY"


class SpanScore(Strict):
    begin: int = Field(ge=0)
    end: int = Field(ge=0)
    score: SummaryScore


class AttributeScores(Strict):
    summaryScore: SummaryScore  # noqa: N815
    spanScores: list[SpanScore]  # noqa: N815


class AnalyzeResponse(Strict):
    attributeScores: dict[AttributeName, AttributeScores]  # noqa: N815
    languages: list[str]
    detectedLanguages: list[str]  # noqa: N815
    clientToken: str | None = None  # noqa: N815
    truncated: bool | None = Field(default=None, description="present (true) when the text was cut")


class PerspectiveErrorDetail(Strict):
    type_: str = Field(alias="@type")
    errorType: str  # noqa: N815


class PerspectiveError(Strict):
    code: int
    message: str
    status: str
    details: list[PerspectiveErrorDetail]


class PerspectiveErrorBody(Strict):
    error: PerspectiveError


# Turning validation errors into one message a client can act on

_EXPECTED = {
    "string_type": "a string",
    "list_type": "a list",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "bool_type": "a boolean",
    "float_type": "a number",
    "int_type": "a whole number",
}


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _is_member_name(part: str) -> bool:
    """Names pydantic puts in an error's location for union members: 'list[str]', 'TextColumn'."""
    return "[" in part or (part[:1].isupper() and not part.isupper())


def _path(location: tuple[int | str, ...]) -> tuple[int | str, ...]:
    parts = [p for p in location if isinstance(p, int) or not _is_member_name(p)]
    if parts and parts[0] in FORMS:
        parts = parts[1:]  # the tag of MLflow's form comes first; the field's own path follows
    return tuple(parts)


def _where(path: tuple[int | str, ...]) -> str:
    """("text", 1) -> 'text'[1]; ("comment", "text") -> 'comment'.text."""
    if not path:
        return "the body"
    out = f"'{path[0]}'" if isinstance(path[0], str) else f"[{path[0]}]"
    for part in path[1:]:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def explain(error: ValidationError) -> tuple[str, str]:
    """The problem as (type, message), from the error that got furthest into the body.

    A union (a text or a list of texts) fails once per member: the member that went deeper tells
    what was meant; where both stopped at the same place, the message names both.
    """
    items = [(item, _path(item["loc"])) for item in error.errors()]
    deepest = max(len(path) for _, path in items)
    item, path = next((item, path) for item, path in items if len(path) == deepest)
    kind, where = item["type"], _where(path)
    if kind == "missing":
        return kind, f"{where} is missing"
    if kind == "extra_forbidden":
        return kind, f"{where} is not a known field"
    if kind in _EXPECTED:
        alternatives = [_EXPECTED[i["type"]] for i, p in items if p == path and i["type"] in _EXPECTED]
        expected = " or ".join(dict.fromkeys(alternatives))
        if expected == "a string or a list":
            expected = "a string or a list of strings"
        if item["input"] is None and len(path) == 1:
            return kind, f"{where} is null; send {expected}"
        return kind, f"{where} must be {expected}, not {_kind(item['input'])}"
    if kind.isupper() or kind == "invocations_form":
        return kind, item["msg"]
    return kind, f"{where}: {item['msg']}"
