"""The Perspective API's answer shape, built from the model's scores.

Perspective's `spanScores` score sentences; with `spanAnnotations` this service answers the toxic
words instead (the spans of the token head, each with its own probability), and without it one
span over the whole text, as before.
"""

from __future__ import annotations

from typing import Any

from toxicity_pyfunc.served.labels import LABELS
from toxicity_pyfunc.served.model import Scored
from toxicity_pyfunc.service.schemas import PERSPECTIVE_ATTRIBUTES, SUPPORTED_LANGUAGES, AnalyzeRequest


def analyze_answer(request: AnalyzeRequest, result: Scored) -> dict[str, Any]:
    """attributeScores for the requested attributes at or above their scoreThreshold."""
    scores = dict(zip(LABELS, (float(value) for value in result.scores[0]), strict=True))
    text = request.comment.text
    attribute_scores: dict[str, Any] = {}
    for name, options in request.requestedAttributes.items():
        value = scores[PERSPECTIVE_ATTRIBUTES[name]]
        threshold = (
            options.scoreThreshold if options is not None and options.scoreThreshold is not None else 0.0
        )
        if value < threshold:
            continue
        summary = {"value": value, "type": "PROBABILITY"}
        if result.spans is not None and name == "TOXICITY":
            spans = [
                {"begin": span.begin, "end": span.end, "score": {"value": span.score, "type": "PROBABILITY"}}
                for span in result.spans[0]
            ]
        else:
            spans = [{"begin": 0, "end": len(text), "score": summary}]
        attribute_scores[name] = {"spanScores": spans, "summaryScore": summary}
    answer: dict[str, Any] = {
        "attributeScores": attribute_scores,
        "languages": request.languages or list(SUPPORTED_LANGUAGES),
        "detectedLanguages": list(SUPPORTED_LANGUAGES),
    }
    if request.clientToken is not None:
        answer["clientToken"] = request.clientToken
    if result.truncated[0]:
        answer["truncated"] = True
    return answer
