"""No malformed input makes a server error, on any route of the app.

The routes come from the app's router (`app_routes`), not from a list kept by hand. Each is
sent a battery of hostile values as the administrator (who passes every permission check and
so reaches the deepest code), an editor and an anonymous visitor: ids out of range or not
numbers in the path, odd query strings, forms and JSON bodies with wrong types, huge numbers,
control characters and very long text. Any 5xx fails, with every offending request listed.
"""

import json
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

import app.services  # noqa: F401
from app.inputs import ID_MAX, parse_whole
from app.main import create_app
from app.models import Measurement
from app.schemas import InputModel
from tests.web.test_access import World, _url, app_routes, world  # noqa: F401  (fixture)

HOSTILE_SEGMENTS = ("0", str(ID_MAX + 1), "²", "%00", "x" * 300, "AY0000")
HOSTILE_VALUES = (
    "²",
    "9" * 30,
    "9" * 5000,
    "-1",
    "0",
    "AY0000",
    "0001-01-01",
    "9999-12-31T23:59",
    "v²",
    "a\x00b\x01c",
    '=HYPERLINK("http://e.example","x")',
    "<script>alert(1)</script>",
    "x" * 6000,
    "",
)
HOSTILE_JSON = (
    [1, 2],
    {"a": 1},
    10**30,
    -(10**30),
    1e308,
    "a\x00b",
    True,
    "x" * 6000,
)
QUERY_NAMES = [
    "year",
    "a",
    "b",
    "person",
    "type",
    "since",
    "until",
    "before",
    "kind",
    "category",
    "group",
    "cohort",
    "theme",
    "aspect",
    "as_of",
    "next",
    "partners",
    "part",
    "state",
    "turned",
    "restored",
    "edit",
    "status",
    "q",
    "page",
    "expired",
    "force",
    "period",
    "layer",
    "unit",
    "lang",
    "view",
    "area",
    "from",
    "to",
    "target_type",
    "target_id",
    "indicator",
    "dimension",
    "round",
]
EXTRA_FIELDS = [
    "version",
    "value",
    "n_measured",
    "note",
    "evidence_url",
    "next",
    "reason",
    "reason_category",
    "cites",
    "target",
    "password",
    "current_password",
    "new_password",
    "confirm",
    "body",
    "parent_id",
    "target_type",
    "target_id",
    "period",
    "periods",
    "units",
    "lang",
    "force",
    "step",
    "code",
    "display_name",
    "join_code",
    "closes_at",
    "decision",
    "answer",
    "rating",
    "kind",
    "dimension",
    "text",
    "group_label",
]
SKIPPED = {("POST", "/logout")}  # would sign the persona out for the rest of the battery


def _form_fields() -> list[str]:
    names = set(EXTRA_FIELDS)
    stack = list(InputModel.__subclasses__())
    while stack:
        model = stack.pop()
        stack.extend(model.__subclasses__())
        names.update(model.model_fields)
    return sorted(names)


FORM_FIELDS = _form_fields()


def _ordered_routes() -> list[tuple[str, str]]:
    """Reads first, deletes last, so that most routes still find what they act on."""
    rank = {"GET": 0, "POST": 1, "PUT": 1, "PATCH": 1, "DELETE": 2}
    routes = [r for r in app_routes() if r not in SKIPPED and not r[1].endswith("/events")]
    return sorted(routes, key=lambda r: (rank.get(r[0], 1), r[1]))


class Battery:
    def __init__(self, w: World) -> None:
        self.w = w
        self.failures: list[str] = []
        self.sent = 0

    def send(self, persona: str, method: str, url: str, **kwargs: object) -> None:
        client = self.w.clients[persona]
        if url.startswith("/api/") and persona in self.w.tokens:
            headers = {"Authorization": f"Bearer {self.w.tokens[persona]}"}
            kwargs["headers"] = {**headers, **kwargs.get("headers", {})}  # type: ignore[dict-item]
        response = client.request(method, url, follow_redirects=False, **kwargs)  # type: ignore[arg-type]
        self.sent += 1
        if response.status_code >= 500:
            shown = {k: str(v)[:80] for k, v in kwargs.items() if k != "headers"}
            self.failures.append(
                f"{persona} {method} {url[:120]} {shown} -> {response.status_code}"
            )

    def paths(self, persona: str, method: str, path: str) -> None:
        for name in re.findall(r"{(\w+)}", path):
            for bad in HOSTILE_SEGMENTS:
                url = _url(path.replace("{" + name + "}", bad), self.w, persona)
                self.send(persona, method, url)

    def queries(self, persona: str, method: str, path: str) -> None:
        url = _url(path, self.w, persona)
        for values in _rotations(QUERY_NAMES, [v[:1000] for v in HOSTILE_VALUES if v]):
            self.send(persona, method, url, params=values)  # a URL stays under 64 KB

    def forms(self, persona: str, method: str, path: str) -> None:
        url = _url(path, self.w, persona)
        for values in _rotations(FORM_FIELDS, HOSTILE_VALUES):
            self.send(persona, method, url, data=values)
        self.send(persona, method, url, data={"version": ["1", "2"], "kra_ids": ["1", "²"]})
        self.send(
            persona,
            method,
            url,
            content=b"\xff\xfe not a form",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )

    def bodies(self, persona: str, method: str, path: str) -> None:
        url = _url(path, self.w, persona)
        for values in _rotations(FORM_FIELDS, HOSTILE_JSON):
            self.send(persona, method, url, json=values)
        self.send(persona, method, url, json={"units": {"1": [1], "x": {"value": []}}})
        self.send(persona, method, url, json=[1, 2, 3])
        huge = b'{"version": ' + b"9" * 5000 + b', "value": 1}'
        for content in (huge, b"{not json", b'"\\ud800"', b"\xff\xfe"):
            self.send(
                persona, method, url, content=content, headers={"Content-Type": "application/json"}
            )


ROTATIONS = 4


def _rotations(names: list[str], values: tuple | list) -> Iterator[dict[str, object]]:
    """A few requests in which every name carries a different hostile value each time (all the
    values against every name would be len(values) times as many requests)."""
    for turn in range(ROTATIONS):
        yield {name: values[(turn * 3 + i) % len(values)] for i, name in enumerate(names)}


def _run(w: World, personas: tuple[str, ...], with_paths: bool) -> Battery:
    battery = Battery(w)
    for method, path in _ordered_routes():
        for persona in personas:
            if with_paths:
                battery.paths(persona, method, path)
            battery.queries(persona, method, path)
            if method in ("POST", "PUT", "PATCH", "DELETE"):
                if path.startswith("/api/"):
                    battery.bodies(persona, method, path)
                else:
                    battery.forms(persona, method, path)
    return battery


def test_no_route_answers_a_server_error_to_hostile_input(world: World) -> None:  # noqa: F811
    battery = _run(world, ("admin",), with_paths=True)
    assert battery.sent > 2500
    assert battery.failures == [], "\n".join(battery.failures[:40])


def test_no_route_answers_a_server_error_to_other_personas(world: World) -> None:  # noqa: F811
    battery = _run(world, ("editor", "anonymous"), with_paths=False)
    assert battery.sent > 1000
    assert battery.failures == [], "\n".join(battery.failures[:40])


def _stored(session: Session, kpi_id: int) -> list[tuple]:
    rows = session.exec(select(Measurement).where(Measurement.kpi_id == kpi_id)).all()
    return sorted((m.period, m.value, m.note, m.version) for m in rows)


def test_every_numeric_path_parameter_is_a_bounded_id() -> None:
    """A route that declares an int path parameter spells it `{name:id}` (app.inputs), so an
    id that is not 1..2^31-1 in ASCII digits matches no route instead of reaching the database."""
    missing = []
    for route in create_app().router.routes:
        for context in getattr(route, "effective_route_contexts", list)():
            for param in context.dependant.path_params:
                typed_int = param.field_info.annotation is int
                if typed_int and f"{{{param.name}:id}}" not in context.path:
                    missing.append(f"{context.path} {param.name}")
    assert missing == []


@pytest.fixture
def kpi_of(world: World) -> Iterator[int]:  # noqa: F811
    yield int(world.params["kpi_id"])


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    value=st.one_of(
        st.text(max_size=40),
        st.integers(min_value=-(10**40), max_value=10**40),
        st.floats(allow_nan=True, allow_infinity=True),
        st.lists(st.integers(), max_size=3),
        st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
        st.none(),
        st.booleans(),
    ),
    field=st.sampled_from(["value", "n_measured", "note", "evidence_url", "version", "units"]),
)
def test_any_json_value_in_a_measurement_is_stored_or_refused_cleanly(
    world: World,  # noqa: F811
    kpi_of: int,
    value: object,
    field: str,
) -> None:
    """Hypothesis: whatever JSON value a field of a measurement PUT carries, the answer is 200,
    204, 409 or 422, and a refused value stores nothing."""
    session: Session = world.session
    session.expire_all()
    before = _stored(session, kpi_of)
    client = TestClient(world.clients["admin"].app, raise_server_exceptions=False)
    body = json.dumps({"value": 50, field: value}, allow_nan=True)
    response = client.put(
        f"/api/v1/kpis/{kpi_of}/measurements/AY2566",
        content=body,
        headers={
            "Authorization": f"Bearer {world.tokens['admin']}",
            "Content-Type": "application/json",
        },
    )
    client.close()
    assert response.status_code in (200, 204, 409, 422), (field, value, response.text[:300])
    if response.status_code in (409, 422):
        assert "detail" in response.json()
        session.expire_all()
        assert _stored(session, kpi_of) == before


@pytest.mark.parametrize(
    ("value", "expected"),
    [(" 26\n", 26), ("26", 26), ("\x1c26", None), ("26\x1f", None), ("26\x85", None),
     ("26\u2028", None), ("٢٦", None), ("26\x00", None), ("-1", None), ("1" * 20, None)],
)  # fmt: skip
def test_a_whole_number_is_ascii_digits_with_plain_spaces_around(
    value: str, expected: int | None
) -> None:
    """A form's whole number (an id, a version) reads ASCII digits, with spaces, tabs or line
    breaks around them; any other character around them (a control character Python's int()
    would skip or choke on) makes it no number, never a crash."""
    assert parse_whole(value) == expected
