"""A `next` a visitor supplies (sign-in, language switch) only ever leads to a page of this
site: every hostile value becomes the home page, and a real path is kept whole."""

from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.web import auth
from app.web.forms import safe_next
from tests import factories as f

HOSTILE = [
    "///evil.example/x",
    "////evil",
    "//evil.example",
    "/\\evil",
    "/\\/evil.example",
    "\\\\evil",
    "/\tevil",
    "/\t/evil.example",
    "/\n/evil.example",
    "/x/\\evil",
    "https://evil",
    "http:/evil",
    "javascript:alert(1)",
    "%2F%2Fevil",
    " /x",
    "evil.example",
    "",
]
GOOD = ["/areas/phuket/plan?x=1#y", "/", "/areas/phuket", "/account?tab=tokens"]


def _on_site(location: str) -> bool:
    parts = urlsplit(location)
    return (
        location.startswith("/")
        and not location.startswith(("//", "/\\"))
        and not parts.scheme
        and not parts.netloc
    )


@pytest.mark.parametrize("value", HOSTILE)
def test_safe_next_turns_a_hostile_target_into_the_default(value: str) -> None:
    assert safe_next(value) == "/"
    assert safe_next(value, default="/account") == "/account"


@pytest.mark.parametrize("value", GOOD)
def test_safe_next_keeps_a_path_on_this_site(value: str) -> None:
    assert safe_next(value) == value


def _csrf(client: TestClient) -> str:
    client.get("/login")
    return auth._mac("csrf", client.cookies[auth.CSRF_COOKIE])


def test_signing_in_never_leads_off_site(
    session: Session, app_client: Callable[[], TestClient]
) -> None:
    f.make_user(session, "viewer", "phuket", email="somchai@example.go.th")
    for value in HOSTILE + GOOD:
        client = app_client()
        form = client.get("/login", params={"next": value})
        expected = value if value in GOOD else "/"
        assert f'name="next" value="{expected}"' in form.text.replace("&amp;", "&"), value
        data = {
            "email": "somchai@example.go.th",
            "password": f.PASSWORD,
            "next": value,
            "csrf_token": _csrf(client),
        }
        signed_in = client.post("/login", data=data, follow_redirects=False)
        assert signed_in.status_code == 303 and signed_in.headers["location"] == expected, value
        # signed in already: the sign-in page sends the browser on at once
        again = client.get("/login", params={"next": value}, follow_redirects=False)
        assert again.status_code == 303 and again.headers["location"] == expected, value
        assert _on_site(again.headers["location"])


def test_the_language_switch_never_leads_off_site(client: TestClient) -> None:
    for value in HOSTILE + GOOD:
        switched = client.post("/lang", data={"lang": "en", "next": value}, follow_redirects=False)
        expected = value if value in GOOD else "/"
        assert switched.status_code == 303 and switched.headers["location"] == expected, value
