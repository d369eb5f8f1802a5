"""Bad input at the door (issue 7): unknown fields, control characters, integer bounds, body size.

The shared pieces are tested here on a small app with the platform's error handlers; every
service's real request bodies are then read from the apps themselves (``bootstrap()``), so a
request model that forgets the base or a bound fails here. tests/integration/platform/
test_bad_input.py sends the same input to running services.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from typing import Annotated, Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field

from shared.access.door import api_routes
from shared.bounds import MAX_MONEY, Money, Quantity
from shared.door import DoorMiddleware
from shared.http import install_error_handlers
from shared.registry import SERVICES
from shared.schemas import MULTILINE, RequestModel, forbidden_character

LIMIT = 1000


class Line(RequestModel):
    sku: str
    quantity: Quantity


class Body(RequestModel):
    name: str
    remarks: Annotated[str, Field(max_length=2000), MULTILINE] = ""
    tags: list[str] = []
    lines: list[Line] = []
    price: Money = 0


def door_app() -> tuple[TestClient, list[Any]]:
    """An app with the platform's door and error format; ``seen`` records the bodies routes got."""
    seen: list[Any] = []
    app = FastAPI()
    install_error_handlers(app)
    app.add_middleware(DoorMiddleware, max_body_bytes=LIMIT)

    @app.put("/things/{thing_id}")
    async def put_thing(thing_id: str, body: Body) -> dict[str, str]:
        seen.append(body)
        return {"thing_id": thing_id}

    @app.get("/things")
    async def list_things(q: str = "") -> dict[str, str]:
        return {"q": q}

    return TestClient(app, raise_server_exceptions=False), seen


@pytest.fixture
def client() -> Iterator[TestClient]:
    api, _ = door_app()
    with api:
        yield api


def fields_of(response: Any) -> dict[str, str]:
    error = response.json()["error"]
    assert error["code"] == "validation_failed", error
    return error["fields"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("field", ["status", "total", "exposure", "reserved", "history", "by"])
def test_an_unknown_or_server_owned_field_is_a_422_naming_it(client: TestClient, field: str):
    response = client.put("/things/A", json={"name": "lamp", field: "x"})

    assert response.status_code == 422
    assert fields_of(response) == {field: "unknown field"}


def test_an_unknown_field_in_a_nested_model_is_named_with_its_path(client: TestClient):
    line = {"sku": "A", "quantity": 1, "amount": 5}

    response = client.put("/things/A", json={"name": "lamp", "lines": [line]})

    assert response.status_code == 422
    assert fields_of(response) == {"lines.0.amount": "unknown field"}


@pytest.mark.parametrize(
    "bad",
    ["NUL\x00", "BEL\x07", "\x1b[31mred", "abc\u202eexe.txt", "\u2066isolate\u2069", "a\u0085b", "tab\there",
     "two\nlines", "cr\r", "line\u2028sep", "\ud800"],
    ids=["nul", "bel", "ansi", "rlo", "isolate", "c1-nel", "tab", "newline", "cr", "u2028", "surrogate"],
)  # fmt: skip
def test_a_single_line_field_refuses_control_and_bidi_characters(client: TestClient, bad: str):
    as_json = json.dumps({"name": bad})  # \u escapes: a lone surrogate cannot be sent as UTF-8

    response = client.put("/things/A", content=as_json, headers={"Content-Type": "application/json"})

    assert response.status_code == 422
    assert "control or bidi characters" in fields_of(response)["name"]


def test_the_error_names_the_character_by_code_point_and_never_echoes_it(client: TestClient):
    response = client.put("/things/A", json={"name": "ok\x1b[2J"})

    message = "Value error, control or bidi characters are not allowed (U+001B at 2)"
    assert fields_of(response) == {"name": message}
    assert "\x1b" not in response.text


def test_control_characters_are_refused_inside_lists_and_nested_models(client: TestClient):
    in_list = client.put("/things/A", json={"name": "lamp", "tags": ["fine", "bad\x00"]})
    nested = client.put("/things/A", json={"name": "lamp", "lines": [{"sku": "A\u202e", "quantity": 1}]})

    assert in_list.status_code == nested.status_code == 422
    assert list(fields_of(in_list)) == ["tags"]
    assert list(fields_of(nested)) == ["lines.0.sku"]


def test_a_multi_line_field_keeps_line_breaks_and_tabs_but_not_other_control_characters():
    api, seen = door_app()
    with api:
        kept = api.put("/things/A", json={"name": "lamp", "remarks": "gift wrap\r\nprint logo:\tACME"})
        refused = [api.put("/things/A", json={"name": "lamp", "remarks": f"x{c}y"})
                   for c in "\x00\x07\x1b\u202e"]  # fmt: skip

    assert kept.status_code == 200
    assert seen[0].remarks == "gift wrap\r\nprint logo:\tACME"
    assert [r.status_code for r in refused] == [422] * 4
    assert len(seen) == 1


def test_plain_unicode_text_is_accepted():
    assert forbidden_character("上海市浦东新区 世纪大道88号 — Café №5 😀") is None


@pytest.mark.parametrize("value", [2**63, 10**30, MAX_MONEY + 1, -1])
def test_an_integer_out_of_bounds_is_a_422_not_a_store_overflow(client: TestClient, value: int):
    response = client.put("/things/A", json={"name": "lamp", "price": value})

    assert response.status_code == 422
    assert list(fields_of(response)) == ["price"]


@pytest.mark.parametrize(
    ("url", "field"),
    [("/things/A%00B", "path"), ("/things/%1B%5B31m", "path"), ("/things/A%E2%80%AEB", "path"),
     ("/things?q=a%07b", "q"), ("/things?q=%E2%81%A6x", "q"), ("/things?q%00=1", "query"),
     ("/things?q=%ff", "q")],
)  # fmt: skip
def test_control_characters_in_the_path_or_query_are_a_422(client: TestClient, url: str, field: str):
    response = client.get(url) if url.startswith("/things?") else client.put(url, json={"name": "lamp"})

    assert response.status_code == 422
    assert list(fields_of(response)) == [field]


def test_clean_paths_and_queries_pass_the_door(client: TestClient):
    assert client.get("/things", params={"q": "红色 lamp/L"}).json() == {"q": "红色 lamp/L"}
    assert client.put("/things/SO202405001", json={"name": "lamp"}).status_code == 200


def test_a_body_over_the_limit_is_a_413_and_never_reaches_the_route():
    api, seen = door_app()
    with api:
        response = api.put("/things/A", content=b'{"name": "' + b"x" * LIMIT + b'"}',
                           headers={"Content-Type": "application/json"})  # fmt: skip

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert seen == []


def test_a_streamed_body_without_content_length_is_cut_off_at_the_limit():
    api, seen = door_app()

    def chunks() -> Iterator[bytes]:
        yield b'{"name": "'
        for _ in range(100):
            yield b"x" * 100
        yield b'"}'

    with api:
        response = api.put("/things/A", content=chunks(), headers={"Content-Type": "application/json"})

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert seen == []


def test_a_body_at_the_limit_is_read():
    api, seen = door_app()
    body = b'{"name": "' + b"x" * (LIMIT - 12) + b'"}'
    with api:
        response = api.put("/things/A", content=body, headers={"Content-Type": "application/json"})

    assert len(body) == LIMIT and response.status_code == 200
    assert len(seen) == 1


def request_models(service: str) -> dict[str, type[BaseModel]]:
    """The body model of every route of a service's app, by route."""
    app = importlib.import_module(f"services.{service}.main").bootstrap()
    models = {}
    for path, methods, dependant in api_routes(app):
        for param in dependant.body_params:
            models[f"{service} {' '.join(sorted(methods))} {path}"] = param.field_info.annotation
    return models


ALL_BODIES = {route: model for service in SERVICES for route, model in request_models(service).items()}


def test_every_route_that_takes_a_body_is_found():
    assert "aftersales POST /returns" in ALL_BODIES
    assert len(ALL_BODIES) >= 9, sorted(ALL_BODIES)


# shared/access is another change's (issue 7): KeyCreate forbids unknown fields and has its own
# control-character pattern on name and channel, but not on role or customers. Strict: basing it
# on RequestModel makes this pass, and then the mark must go.
NOT_YET: dict[str, str] = {}


@pytest.mark.parametrize(
    "route",
    [pytest.param(r, marks=pytest.mark.xfail(strict=True, reason=NOT_YET[r])) if r in NOT_YET else r
     for r in sorted(ALL_BODIES)],
)  # fmt: skip
def test_every_request_body_is_a_request_model(route: str):
    assert issubclass(ALL_BODIES[route], RequestModel), f"{route} takes a {ALL_BODIES[route]!r}"


def integer_properties(
    schema: dict[str, Any], defs: dict[str, Any], path: str = ""
) -> Iterator[tuple[str, Any]]:
    """Every integer in a JSON schema, with the path that leads to it."""
    if "$ref" in schema:
        yield from integer_properties(defs[schema["$ref"].rsplit("/", 1)[-1]], defs, path)
        return
    if schema.get("type") == "integer":
        yield path, schema
    for alternative in schema.get("anyOf", []) + schema.get("allOf", []):
        yield from integer_properties(alternative, defs, path)
    for name, sub in schema.get("properties", {}).items():
        yield from integer_properties(sub, defs, f"{path}.{name}".lstrip("."))
    if "items" in schema:
        yield from integer_properties(schema["items"], defs, f"{path}[]")


@pytest.mark.parametrize("route", sorted(ALL_BODIES))
def test_every_integer_of_every_request_body_has_bounds_in_its_schema(route: str):
    schema = ALL_BODIES[route].model_json_schema()
    defs = schema.get("$defs", {})

    unbounded = [
        path for path, s in integer_properties(schema, defs)
        if not ({"minimum", "exclusiveMinimum"} & set(s) and {"maximum", "exclusiveMaximum"} & set(s))
    ]  # fmt: skip

    assert unbounded == []
    assert all(s.get("maximum", 0) < 2**63 for _, s in integer_properties(schema, defs))
