"""Links in pages (`url_for` in templates, `templating.route_path`) are filled in from each
route's path template, not searched for: for every named route of the app they must be what
Starlette's own `url_path_for` gives, mounts (static files) included."""

from starlette.requests import Request
from starlette.routing import Mount

from app.main import create_app
from app.templating import _leaves, route_path

SAMPLES = {"id": 12, "int": 7, "path": "css/app.css", "str": "krabi"}


def _sample(convertor: object) -> object:
    name = type(convertor).__name__.removesuffix("Convertor").lower()
    return SAMPLES.get(name, "krabi")


def test_every_route_s_link_is_the_one_starlette_builds() -> None:
    app = create_app()
    request = Request({"type": "http", "app": app, "router": app.router, "path": "/",
                       "root_path": "", "headers": [(b"host", b"x")], "scheme": "http",
                       "server": ("x", 80), "query_string": b""})  # fmt: skip
    checked = 0
    for route in _leaves(app.router.routes):
        name = getattr(route, "name", None)
        if not name:
            continue
        if isinstance(route, Mount):
            params = {"path": "css/app.css"}
        else:
            params = {k: _sample(c) for k, c in route.param_convertors.items()}
        expected = app.url_path_for(name, **params)
        assert route_path(request, name, **params) == expected, name
        assert route_path(request, name, **params) == expected, name  # kept, then reused
        checked += 1
    assert checked > 200
    assert route_path(request, "static", path="css/app.css") == "/static/css/app.css"
    assert route_path(request, "progress_kpi", slug="krabi", kpi_id=12) == (
        "/areas/krabi/progress/kpis/12"
    )
