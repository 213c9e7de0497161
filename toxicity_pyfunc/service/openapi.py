"""The OpenAPI document: FastAPI's, with the request bodies taken from the pydantic models.

The routes read their bodies themselves (to bound them while they stream and to answer errors
in each contract's own shape), so FastAPI cannot see the request models; this adds them. The
only hand-written part is MLflow's CSV form of /invocations.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

REF = "#/components/schemas/{model}"
# MLflow's CSV form: a header row naming the text column, then one text per row. The pattern is the
# plain case (no quoting); quoted fields with commas or line breaks are accepted too.
CSV_BODY = {
    "type": "string",
    "pattern": '^text\r?\n([^,"\r\n]+\r?\n)*$',
    "description": "a header row `text`, then one text per row (RFC 4180 quoting allowed)",
}


def document_request_bodies(app: FastAPI, bodies: dict[str, tuple[type[BaseModel], bool]]) -> None:
    """Make `app.openapi()` describe each path's JSON body (and CSV where the flag says so)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        document = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        for path, (model, csv) in bodies.items():
            schema = model.model_json_schema(ref_template=REF)
            schemas.update(schema.pop("$defs", {}))
            schemas[model.__name__] = schema
            content: dict[str, Any] = {
                "application/json": {"schema": {"$ref": REF.format(model=model.__name__)}}
            }
            if csv:
                content["text/csv"] = {
                    "schema": {
                        "type": "string",
                        "description": "a header row naming a 'text' column, one row per text",
                    }
                }
            document["paths"][path]["post"]["requestBody"] = {"required": True, "content": content}
            document["paths"][path]["post"]["security"] = [{"apiKeyQuery": []}, {"bearer": []}, {}]
        document["components"]["securitySchemes"] = {
            "apiKeyQuery": {"type": "apiKey", "in": "query", "name": "key"},
            "bearer": {"type": "http", "scheme": "bearer"},
        }
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]
