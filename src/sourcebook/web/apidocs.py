"""``/api/docs``: the API reference, rendered on the server from the OpenAPI schema.

Not Swagger UI: that page loads scripts from a CDN and runs inline script, which the site's
Content-Security-Policy forbids (and a COI archive should not send its users' browsers to a third
party). This page lists each operation with its parameters and responses, and links the schema.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

router = APIRouter(include_in_schema=False)


@dataclass
class Param:
    name: str
    where: str
    required: bool
    kind: str
    description: str
    default: str


@dataclass
class Operation:
    method: str
    path: str
    anchor: str
    summary: str
    description: str
    params: list[Param] = field(default_factory=list)
    body: list[Param] = field(default_factory=list)
    responses: list[tuple[str, str, str]] = field(default_factory=list)  # code, text, media


def describe_schema(schema: dict[str, Any], components: dict[str, Any]) -> str:
    """A short human name for a JSON schema: ``string (date)``, ``array of string``, ``one of …``."""
    if "$ref" in schema:
        name = str(schema["$ref"]).rsplit("/", 1)[-1]
        return name if name in components else "object"
    if "anyOf" in schema:
        kinds = [describe_schema(s, components) for s in schema["anyOf"]]
        return " or ".join(k for k in kinds if k != "null") or "null"
    if "enum" in schema:
        return "one of " + ", ".join(str(v) for v in schema["enum"])
    kind = str(schema.get("type", "any"))
    if kind == "array":
        return "array of " + describe_schema(schema.get("items", {}), components)
    if schema.get("format"):
        kind += f" ({schema['format']})"
    bounds = [
        f"{label} {schema[key]}"
        for key, label in (("minimum", "≥"), ("maximum", "≤"), ("maxLength", "at most"))
        if key in schema
    ]
    if bounds:
        kind += ", " + ", ".join(bounds) + (" characters" if "maxLength" in schema else "")
    return kind


def operations(openapi: dict[str, Any]) -> list[Operation]:
    components = openapi.get("components", {}).get("schemas", {})
    out = []
    for path, item in openapi.get("paths", {}).items():
        for method, op in item.items():
            if not isinstance(op, dict):
                continue
            operation = Operation(
                method=method.upper(),
                path=path,
                anchor=str(op.get("operationId", f"{method}-{path}")),
                summary=str(op.get("summary", "")),
                description=str(op.get("description", "")),
            )
            for p in op.get("parameters", []):
                schema = p.get("schema", {})
                operation.params.append(
                    Param(
                        name=str(p.get("name", "")),
                        where=str(p.get("in", "")),
                        required=bool(p.get("required")),
                        kind=describe_schema(schema, components),
                        description=str(p.get("description", schema.get("description", ""))),
                        default="" if "default" not in schema else repr(schema["default"]),
                    )
                )
            for media, content in op.get("requestBody", {}).get("content", {}).items():
                ref = describe_schema(content.get("schema", {}), components)
                body = components.get(ref, {})
                required = set(body.get("required", []))
                for name, schema in body.get("properties", {}).items():
                    operation.body.append(
                        Param(
                            name,
                            media,
                            name in required,
                            describe_schema(schema, components),
                            str(schema.get("description", "")),
                            "",
                        )
                    )
            for code, response in op.get("responses", {}).items():
                media = ", ".join(response.get("content", {}))
                operation.responses.append((code, str(response.get("description", "")), media))
            out.append(operation)
    return out


@dataclass
class Protocol:
    """An endpoint outside the JSON API (XML), listed beside it."""

    method: str
    path: str
    anchor: str
    summary: str
    description: str
    example: str


PROTOCOLS = [
    Protocol(
        "GET, POST",
        "/oai",
        "oai-pmh",
        "OAI-PMH 2.0: harvest every record's metadata",
        "The six verbs (Identify, ListMetadataFormats, ListSets, GetRecord, ListIdentifiers, "
        "ListRecords) with Dublin Core (metadataPrefix=oai_dc); sets by country, collection, "
        "publisher and type; from/until as UTC datestamps; resumption tokens. Identifiers are "
        "oai:HOST:DOCID, HOST being the archive's public host name.",
        "/oai?verb=ListRecords&metadataPrefix=oai_dc",
    ),
    Protocol(
        "GET",
        "/search.atom",
        "atom",
        "Atom feed of a search (a saved search alert)",
        "Takes the search page's parameters (q, country, publisher, type, language, "
        "collection, from, to, sort, page, size); newest first unless sort says otherwise. "
        "Every search page links its feed (Subscribe). Answers ETag / If-None-Match with 304.",
        "/search.atom?q=returnees&country=TJ",
    ),
]


@router.get("/api/docs")
async def api_docs(request: Request) -> Response:
    openapi = request.app.openapi()
    response: Response = request.app.state.templates.TemplateResponse(
        request,
        "api_docs.html",
        {
            "operations": operations(openapi),
            "protocols": PROTOCOLS,
            "info": openapi.get("info", {}),
        },
    )
    return response
