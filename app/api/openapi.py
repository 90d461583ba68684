"""The OpenAPI document: only the JSON API under /api/v1, with the error bodies it really sends.

FastAPI documents a 422 whose `detail` is a list of pydantic errors; this API answers every
error with `{"detail": "<message>", "errors": {"<field>": "<message>"}}` (app.api.errors), and
may answer 401, 403, 404 and 422 on any route and 409 on a write. Clients generated from the
schema (and schemathesis in the suite) rely on the document saying so.
"""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from app.inputs import ID_MAX

ERROR_SCHEMA = {
    "title": "Error",
    "type": "object",
    "required": ["detail"],
    "properties": {
        "detail": {"type": "string", "description": "What went wrong, in the UI language"},
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "A message per field that was refused",
        },
        "current": {
            "type": "object",
            "description": "On 409: the record as it now is",
        },
    },
}
ERRORS = {
    "400": "Malformed request",
    "401": "No valid API token or session",
    "403": "Not allowed for this area, or a browser request without CSRF token",
    "404": "No such area, element or record",
    "422": "The input is not valid: a message per field",
}
WRITE_ERRORS = {"409": "Someone else changed it since you read it, or it is still linked"}
WRITES = {"post", "put", "patch", "delete"}


def install(app: FastAPI) -> None:
    """Replace app.openapi with a builder of the document described above (built once)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def build(app: FastAPI) -> dict[str, Any]:
    document = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
    )
    document["paths"] = {
        path: operations
        for path, operations in document.get("paths", {}).items()
        if path.startswith("/api/v1/")
    }
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    schemas["Error"] = ERROR_SCHEMA
    for operations in document["paths"].values():
        for method, operation in operations.items():
            _declare_errors(method, operation)
    return document


def _declare_errors(method: str, operation: dict[str, Any]) -> None:
    for parameter in operation.get("parameters", []):
        schema = parameter.get("schema", {})
        if parameter.get("in") == "path" and schema.get("type") == "integer":
            schema.update(minimum=1, maximum=ID_MAX)  # the `{name:id}` convertor's range
    responses = operation.setdefault("responses", {})
    wanted = {**ERRORS, **(WRITE_ERRORS if method in WRITES else {})}
    for code, description in wanted.items():
        response = responses.setdefault(code, {"description": description})
        response["content"] = {
            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
        }
