"""The projector's page (`/areas/{slug}/present`): the period it opens at, cards that never
contradict themselves, the workshop's slot and its join address (PHONLAP_PUBLIC_URL, and the
warning when that address is loopback)."""

import re
from collections.abc import Callable
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.config import get_settings
from app.models import KPI, Plan
from app.services import maps, progress, workshops
from app.web.workshops import loopback_join_host
from tests import factories as f
from tests.conftest import sign_in

HX = {"HX-Request": "true"}
WARNING = "โทรศัพท์เข้าร่วมผ่านที่อยู่นี้ไม่ได้"


def _value(session: Session, plan: Plan, kpi: KPI, period: str, text: str) -> None:
    progress.save_cell(
        session, actor=f.ACTOR, plan=plan, kpi_id=kpi.id, period=period, cell="actual", text=text
    )


def _plan(session: Session, kras: int = 3) -> tuple[Plan, list[KPI]]:
    plan = f.make_full_plan(session, "krabi", kras=kras)
    kpis = list(session.exec(select(KPI).where(KPI.plan_id == plan.id).order_by(KPI.id)))
    return plan, kpis


def _opens_at(client: TestClient) -> str:
    page = client.get("/areas/krabi/present")
    assert page.status_code == 200
    return re.search(r'data-period="([^"]*)"', page.text).group(1)


def _cards(board: str) -> list[str]:
    return re.findall(r'<li class="kpi-card.*?</li>', board, re.S)


def _board(client: TestClient, period: str) -> list[str]:
    answer = client.get(f"/areas/krabi/present?part=board&period={period}", headers=HX)
    assert answer.status_code == 200
    return _cards(answer.text)


# ---- the period it opens at -----------------------------------------------------------------


def test_one_fresh_value_does_not_move_the_projector_to_a_period_of_empty_cards(
    client: TestClient, session: Session
) -> None:
    plan, kpis = _plan(session)
    for kpi in kpis:
        _value(session, plan, kpi, "AY2566", "64")
    _value(session, plan, kpis[0], "AY2567", "70")  # one fresh entry: 1 of 3 KPIs
    assert _opens_at(client) == "AY2566"
    cards = _board(client, "AY2566")
    assert len(cards) == 3 and not any("status-no_data" in c for c in cards)

    _value(session, plan, kpis[1], "AY2567", "71")  # now 2 of 3: most KPIs have a figure
    assert _opens_at(client) == "AY2567"


def test_the_default_period_falls_back_to_the_best_covered_one_then_the_newest(
    session: Session,
) -> None:
    plan, kpis = _plan(session, kras=4)
    area = f.area(session, "krabi")

    def opens_at() -> str | None:
        view = maps.map_view(
            session, area, plan, lambda *_: None, today=date(2026, 12, 2), default=maps.best_covered
        )
        return view.period

    assert opens_at() == "AY2569"  # no figure anywhere: the newest period that has begun
    _value(session, plan, kpis[0], "AY2566", "64")
    _value(session, plan, kpis[0], "AY2567", "65")
    _value(session, plan, kpis[1], "AY2567", "66")
    _value(session, plan, kpis[2], "AY2568", "67")
    # 1, 2, 1 of 4 KPIs: no period has most of them, AY2567 has the most
    assert opens_at() == "AY2567"


# ---- no contradictory cards -----------------------------------------------------------------


def test_a_card_shows_a_trend_only_beside_a_figure_and_only_up_to_its_period(
    client: TestClient, session: Session
) -> None:
    plan, kpis = _plan(session)
    for period, text in (("AY2566", "60"), ("AY2567", "80"), ("AY2568", "70")):
        _value(session, plan, kpis[0], period, text)
    first = {p: _board(client, p)[0] for p in ("AY2566", "AY2567", "AY2568", "AY2569")}
    assert "kpi-card-trend" not in first["AY2566"]  # one figure: no trend yet
    assert "trend-improving" in first["AY2567"] and "ดีขึ้น" in first["AY2567"]
    assert "trend-worsening" in first["AY2568"] and "แย่ลง" in first["AY2568"]
    assert "status-no_data" in first["AY2569"] and "ไม่มีข้อมูล" in first["AY2569"]
    assert "kpi-card-trend" not in first["AY2569"]  # no figure: no "worsening" beside it
    for period in first:
        for card in _board(client, period):
            if "status-no_data" in card:
                assert "kpi-card-trend" not in card


def test_a_figure_without_a_target_is_not_called_no_data(
    client: TestClient, session: Session
) -> None:
    plan = f.make_plan(session, "krabi")
    kpi = f.make_kpi(session, plan, "KPI1", target_value=None, target_period=None)
    _value(session, plan, kpi, "AY2566", "64")
    card = _board(client, "AY2566")[0]
    assert "ไม่มีค่าเป้าหมายให้เทียบ" in card and "ไม่มีข้อมูล" not in card
    assert "<strong>64</strong>" in card


# ---- the workshop's slot and its join address -----------------------------------------------


def test_the_workshop_slot_is_empty_without_an_open_session_and_its_tab_hidden(
    client: TestClient, session: Session
) -> None:
    _plan(session)
    page = client.get("/areas/krabi/present").text
    assert re.search(r'id="present-tab-workshop" hidden', page)
    assert 'id="present-workshop-slot"' in page and 'id="present-workshop"' not in page
    assert 'hx-trigger="workshop-sessions, resync"' in page
    slot = client.get("/areas/krabi/present?part=workshop", headers=HX)
    assert slot.status_code == 200 and slot.text.strip() == ""

    workshop = f.make_workshop(session)
    page = client.get("/areas/krabi/present").text
    assert re.search(r'id="present-tab-workshop" aria-controls="present-workshop"', page)
    slot = client.get("/areas/krabi/present?part=workshop", headers=HX).text
    assert slot.lstrip().startswith('<section id="present-workshop"')
    assert workshops.format_code(workshop.join_code) in slot


def _qr_path(svg: str) -> str:
    return re.search(r'<path[^>]* d="([^"]+)"', svg).group(1)


def test_the_join_link_and_qr_code_use_the_public_address(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "public_url", "https://phonlap.example.go.th/")
    _plan(session)
    workshop = f.make_workshop(session)
    public = f"https://phonlap.example.go.th/join/{workshop.join_code}"
    for url in ("/areas/krabi/present", f"/areas/krabi/workshops/{workshop.id}"):
        page = client.get(url).text
        assert "phonlap.example.go.th/join" in page and "testserver/join" not in page
        assert _qr_path(page.split('class="join-qr"')[1]) == _qr_path(workshops.join_qr_svg(public))
        assert WARNING not in page


@pytest.mark.parametrize(
    ("public_url", "warned"),
    [
        ("http://127.0.0.1:8000", True),
        ("http://localhost:8000", True),
        ("https://phonlap.example.go.th", False),
        ("", False),  # the address the facilitator opened: here "testserver"
    ],
)
def test_a_loopback_join_address_warns_the_facilitator(
    client: TestClient,
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
    public_url: str,
    warned: bool,
) -> None:
    monkeypatch.setattr(get_settings(), "public_url", public_url)
    _plan(session)
    workshop = f.make_workshop(session)
    for url in ("/areas/krabi/present", f"/areas/krabi/workshops/{workshop.id}"):
        page = client.get(url).text
        assert (WARNING in page) is warned
        assert ("PHONLAP_PUBLIC_URL" in page) is warned


def test_a_facilitator_who_opened_localhost_is_warned_when_no_public_address_is_set(
    app_client: Callable[[], TestClient], session: Session
) -> None:
    facilitator = sign_in(app_client(), session, f.make_user(session, "facilitator", "krabi"))
    workshop = f.make_workshop(session)
    facilitator.base_url = "http://localhost:8000"
    page = facilitator.get(f"/areas/krabi/workshops/{workshop.id}").text
    assert "localhost:8000/join" in page
    assert WARNING in page and "localhost คือเครื่องนี้เอง" in page


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("http://localhost:8000/join/ABCDEFGH", "localhost"),
        ("http://phonlap.localhost/join/ABCDEFGH", "phonlap.localhost"),
        ("http://127.0.0.1:8000/join/ABCDEFGH", "127.0.0.1"),
        ("http://127.1.2.3/join/ABCDEFGH", "127.1.2.3"),
        ("http://[::1]:8000/join/ABCDEFGH", "::1"),
        ("https://phonlap.example.go.th/join/ABCDEFGH", None),
        ("http://192.168.1.20:8000/join/ABCDEFGH", None),
    ],
)
def test_which_join_addresses_only_this_machine_can_open(url: str, host: str | None) -> None:
    assert loopback_join_host(url) == host
