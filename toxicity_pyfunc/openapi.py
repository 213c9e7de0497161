"""The OpenAPI document of the server: all three contracts, written out rather than inferred."""

from __future__ import annotations

from typing import Any

from toxicity_pyfunc import __version__
from toxicity_pyfunc.labels import LABELS

_SCORES = {
    "type": "object",
    "properties": {label: {"type": "number", "minimum": 0, "maximum": 1} for label in LABELS},
    "required": list(LABELS),
}
_ERROR = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {"code": {"type": "integer"}, "message": {"type": "string"}},
        }
    },
}
_LABEL_LIST = {"type": "array", "items": {"type": "string", "enum": list(LABELS)}}
_LABEL_LISTS = {"oneOf": [_LABEL_LIST, {"type": "array", "items": _LABEL_LIST}]}
_TEXT_ROW = {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}
_PERSPECTIVE_ATTRIBUTES = ["TOXICITY", "SEVERE_TOXICITY", "IDENTITY_ATTACK", "INSULT", "PROFANITY", "THREAT"]
_SCORE = {"type": "object", "properties": {"value": {"type": "number"}, "type": {"type": "string"}}}


def _errors(*codes: int) -> dict[str, Any]:
    return {
        str(code): {"description": "client error", "content": {"application/json": {"schema": _ERROR}}}
        for code in codes
    }


def _json_body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def openapi_document() -> dict[str, Any]:
    """Describe /invocations, /predict and /v1alpha1/comments:analyze, plus the health routes."""
    invocations_body = {
        "oneOf": [
            {
                "type": "object",
                "properties": {"dataframe_records": {"type": "array", "items": _TEXT_ROW}},
                "required": ["dataframe_records"],
            },
            {
                "type": "object",
                "properties": {
                    "dataframe_split": {
                        "type": "object",
                        "properties": {
                            "columns": {
                                "type": "array",
                                "items": {"type": "string", "enum": ["text"]},
                                "minItems": 1,
                                "maxItems": 1,
                            },
                            "data": {
                                "type": "array",
                                "items": {
                                    "type": "array",
                                    "items": {"type": "string"},
                                    "minItems": 1,
                                    "maxItems": 1,
                                },
                            },
                        },
                        "required": ["columns", "data"],
                    }
                },
                "required": ["dataframe_split"],
            },
            {
                "type": "object",
                "properties": {
                    "inputs": {
                        "type": "object",
                        "properties": {"text": {"type": "array", "items": {"type": "string"}}},
                        "required": ["text"],
                    }
                },
                "required": ["inputs"],
            },
            {
                "type": "object",
                "properties": {"instances": {"type": "array", "items": _TEXT_ROW}},
                "required": ["instances"],
            },
        ]
    }
    predict_body = {
        "type": "object",
        "properties": {
            "text": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
        },
        "required": ["text"],
    }
    analyze_body = {
        "type": "object",
        "properties": {
            "comment": {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]},
            "requestedAttributes": {
                "type": "object",
                "properties": {
                    name: {
                        "type": "object",
                        "properties": {
                            "scoreThreshold": {"type": "number"},
                            "scoreType": {"type": "string", "enum": ["PROBABILITY"]},
                        },
                    }
                    for name in _PERSPECTIVE_ATTRIBUTES
                },
                "additionalProperties": False,
                "minProperties": 1,
            },
            "languages": {"type": "array", "items": {"type": "string", "enum": ["en"]}},
            "doNotStore": {"type": "boolean"},
            "clientToken": {"type": "string"},
        },
        "required": ["comment", "requestedAttributes"],
    }
    security = [{"apiKeyQuery": []}, {"bearer": []}]
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Toxicity classification service",
            "version": __version__,
            "description": "Six probabilities per text. "
            "Empty or whitespace-only text scores 0 everywhere. "
            "Texts longer than the model's token limit are truncated; "
            "/predict and the Perspective route say so. "
            "With TOXICITY_API_KEYS set, scoring routes need ?key= or a Bearer token.",
        },
        "components": {
            "securitySchemes": {
                "apiKeyQuery": {"type": "apiKey", "in": "query", "name": "key"},
                "bearer": {"type": "http", "scheme": "bearer"},
            }
        },
        "paths": {
            "/invocations": {
                "post": {
                    "summary": "MLflow scoring protocol (JSON forms or CSV with a text column)",
                    "security": security,
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": invocations_body},
                            "text/csv": {"schema": {"type": "string"}},
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "one row of six scores per text",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {"predictions": {"type": "array", "items": _SCORES}},
                                    }
                                }
                            },
                        }
                    }
                    | _errors(400, 401, 403, 413, 415),
                }
            },
            "/predict": {
                "post": {
                    "summary": 'The original service: {"text": ...} in, {"response": scores} out',
                    "security": security,
                    "requestBody": _json_body(predict_body),
                    "responses": {
                        "200": {
                            "description": "scores, a list when text was a list",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {
                                            "response": {
                                                "oneOf": [_SCORES, {"type": "array", "items": _SCORES}]
                                            },
                                            "truncated": {
                                                "oneOf": [
                                                    {"type": "boolean"},
                                                    {"type": "array", "items": {"type": "boolean"}},
                                                ]
                                            },
                                            "flagged": _LABEL_LISTS
                                            | {
                                                "description": "labels at or above the model's "
                                                "threshold for them (chosen on validation)"
                                            },
                                        },
                                    }
                                }
                            },
                        }
                    }
                    | _errors(400, 401, 403, 413, 415),
                }
            },
            "/v1alpha1/comments:analyze": {
                "post": {
                    "summary": "Perspective API AnalyzeComment",
                    "security": security,
                    "requestBody": _json_body(analyze_body),
                    "responses": {
                        "200": {
                            "description": "attribute scores",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {
                                            "attributeScores": {
                                                "type": "object",
                                                "additionalProperties": {
                                                    "type": "object",
                                                    "properties": {"summaryScore": _SCORE},
                                                },
                                            },
                                            "languages": {"type": "array", "items": {"type": "string"}},
                                        },
                                    }
                                }
                            },
                        }
                    }
                    | _errors(400, 401, 403, 413, 415),
                }
            },
            "/ping": {"get": {"summary": "liveness", "responses": {"200": {"description": "up"}}}},
            "/health": {"get": {"summary": "liveness", "responses": {"200": {"description": "up"}}}},
            "/version": {
                "get": {"summary": "MLflow version", "responses": {"200": {"description": "version"}}}
            },
        },
    }
