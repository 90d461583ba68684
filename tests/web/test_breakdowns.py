"""Breakdowns (category sets) on the data catalogue page: the national ones seeded and
read-only, an area's own made, renamed and deleted with their options, the codes checked; and
the data item form's new fields (measure, period type, reporter, due days, breakdowns)."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, SQLModel, col, select

from app.models import AuditEvent, CategoryOption, CategorySet, DataItem, DataItemCategorySet
from app.services import breakdowns, resources
from app.services.errors import NotFound, ValidationFailed
from tests import factories as f
from tests.conftest import sign_in

NATIONAL = ("sex", "ethnic_language", "school_size", "urban_rural", "disability")


def _count(session: Session, model: type[SQLModel], *where: Any) -> int:
    return session.exec(select(func.count()).select_from(model).where(*where)).one()


def _national(session: Session, code: str) -> CategorySet:
    return session.exec(
        select(CategorySet).where(col(CategorySet.area_id).is_(None), CategorySet.code == code)
    ).one()


def make_island_set(session: Session, slug: str = "krabi") -> CategorySet:
    area = f.area(session, slug)
    row = breakdowns.create_set(
        session,
        actor=f.ACTOR,
        area=area,
        set_in={"code": "island", "name_th": "ที่ตั้ง", "name_en": "Location"},
    )
    for code, name in (("island", "เกาะ"), ("mainland", "แผ่นดินใหญ่")):
        breakdowns.add_option(
            session,
            actor=f.ACTOR,
            area=area,
            set_id=row.id,
            option_in={"code": code, "name_th": name},
        )
    return row


def test_the_national_breakdowns_are_seeded_with_thai_and_english_names(session: Session) -> None:
    codes = [
        s.set.code for s in breakdowns.sets_for(session, f.area(session, "krabi")) if s.national
    ]
    assert codes == list(NATIONAL)
    ethnic = _national(session, "ethnic_language")
    options = session.exec(
        select(CategoryOption)
        .where(CategoryOption.set_id == ethnic.id)
        .order_by(CategoryOption.position)
    ).all()
    assert [o.name_th for o in options][:3] == ["ไทย", "กะเหรี่ยง", "ม้ง"]
    assert options[-1].code == "other" and options[-1].name_en == "Other"


def test_an_area_makes_its_own_breakdown_on_the_data_page(
    client: TestClient, session: Session
) -> None:
    response = client.post(
        "/areas/krabi/data/breakdowns",
        data={"code": "island", "name_th": "ที่ตั้งของโรงเรียน", "name_en": "School location"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    row = session.exec(select(CategorySet).where(CategorySet.code == "island")).one()
    option = client.post(
        f"/areas/krabi/data/breakdowns/{row.id}/options",
        data={"code": "island", "name_th": "เกาะ"},
        follow_redirects=False,
    )
    assert option.status_code == 303
    page = client.get("/areas/krabi/data")
    assert "ที่ตั้งของโรงเรียน" in page.text and "เกาะ" in page.text
    assert "กะเหรี่ยง" in page.text  # the national ones are listed too
    events = _count(
        session, AuditEvent, col(AuditEvent.entity_type).in_(["category_set", "category_option"])
    )
    assert events == 2
    # another area does not see it
    assert "ที่ตั้งของโรงเรียน" not in client.get("/areas/phuket/data").text


@pytest.mark.parametrize(
    ("code", "expected"),
    [("Island", "lowercase"), ("sex", "national"), ("เกาะ", "lowercase"), ("", "required")],
)
def test_bad_set_codes_are_refused_beside_the_field(
    client: TestClient, session: Session, code: str, expected: str
) -> None:
    response = client.post("/areas/krabi/data/breakdowns", data={"code": code, "name_th": "ที่ตั้ง"})
    assert response.status_code == 422
    assert 'id="set-new-code-error"' in response.text
    assert _count(session, CategorySet, col(CategorySet.area_id).is_not(None)) == 0


def test_option_codes_are_unique_in_their_set(session: Session) -> None:
    row = make_island_set(session)
    with pytest.raises(ValidationFailed) as caught:
        breakdowns.add_option(
            session, actor=f.ACTOR, area=f.area(session, "krabi"), set_id=row.id,
            option_in={"code": "island", "name_th": "เกาะอีกที"},
        )  # fmt: skip
    assert caught.value.errors["code"].msgid == breakdowns.OPTION_CODE_TAKEN


def test_national_breakdowns_are_read_only_in_an_area(client: TestClient, session: Session) -> None:
    sex = _national(session, "sex")
    response = client.post(f"/areas/krabi/data/breakdowns/{sex.id}", data={"name_th": "เพศสภาพ"})
    assert response.status_code == 404
    with pytest.raises(NotFound):
        breakdowns.delete_set(session, actor=f.ACTOR, area=f.area(session, "krabi"), set_id=sex.id)
    session.refresh(sex)
    assert sex.name_th == "เพศ"


def test_another_areas_breakdown_cannot_be_changed(client: TestClient, session: Session) -> None:
    row = make_island_set(session, "phuket")
    response = client.post(f"/areas/krabi/data/breakdowns/{row.id}/delete")
    assert response.status_code == 404
    assert _count(session, CategorySet, CategorySet.id == row.id) == 1


def test_a_breakdown_in_use_is_not_deleted(client: TestClient, session: Session) -> None:
    row = make_island_set(session)
    resources.create_data_item(
        session, actor=f.ACTOR, area=f.area(session, "krabi"),
        item_in={"name": "จำนวนนักเรียน", "category_set_ids": [row.id]},
    )  # fmt: skip
    response = client.post(f"/areas/krabi/data/breakdowns/{row.id}/delete")
    assert response.status_code == 422
    assert _count(session, CategorySet, CategorySet.id == row.id) == 1
    rename = client.post(
        f"/areas/krabi/data/breakdowns/{row.id}",
        data={"name_th": "เกาะหรือแผ่นดินใหญ่"},
        follow_redirects=False,
    )
    assert rename.status_code == 303
    session.refresh(row)
    assert row.name_th == "เกาะหรือแผ่นดินใหญ่" and row.code == "island"


def test_a_viewer_cannot_make_a_breakdown(app_client: Any, session: Session) -> None:
    client = sign_in(app_client(), session, f.make_user(session, "viewer", "krabi"))
    response = client.post("/areas/krabi/data/breakdowns", data={"code": "island", "name_th": "x"})
    assert response.status_code == 403
    assert _count(session, CategorySet, col(CategorySet.area_id).is_not(None)) == 0


# ---- the data item form ---------------------------------------------------------------------


def test_data_item_form_round_trip_with_measure_period_reporter_due_days_and_breakdowns(
    client: TestClient, session: Session
) -> None:
    island = make_island_set(session)
    sex = _national(session, "sex")
    response = client.post(
        "/areas/krabi/data",
        data={
            "name": "จำนวนนักเรียนออกกลางคัน",
            "measure": "คน",
            "period_type": "academic_year",
            "reported_by": "school",
            "due_days": "๖๐",
            "category_set_ids": [str(sex.id), str(island.id)],
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    item = session.exec(select(DataItem).where(DataItem.name == "จำนวนนักเรียนออกกลางคัน")).one()
    assert (item.measure, item.period_type, item.reported_by, item.due_days) == (
        "คน", "academic_year", "school", 60,
    )  # fmt: skip
    links = session.exec(
        select(DataItemCategorySet.set_id).where(DataItemCategorySet.data_item_id == item.id)
    ).all()
    assert sorted(links) == sorted([sex.id, island.id])
    page = client.get("/areas/krabi/data").text
    row = page[page.index(f'id="data-item-{item.id}"') :]
    row = row[: row.index("</tr>")]
    assert "ปีการศึกษา" in row and "โรงเรียนนำร่อง" in row and "60" in row
    assert "เพศ" in row and "ที่ตั้ง" in row
    edit = client.get(f"/areas/krabi/data/{item.id}/edit").text
    assert f'value="{sex.id}" checked' in edit and 'value="60"' in edit
    assert '<option value="school" selected>' in edit


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("due_days", "0"),
        ("due_days", "731"),
        ("due_days", "สามสิบ"),
        ("reported_by", "village"),
        ("period_type", "decade"),
    ],
)
def test_bad_data_item_fields_are_refused_beside_the_field(
    client: TestClient, session: Session, field: str, value: str
) -> None:
    response = client.post("/areas/krabi/data", data={"name": "จำนวนครู", field: value})
    assert response.status_code == 422
    assert f'id="data-item-new-{field}-error"' in response.text
    assert _count(session, DataItem) == 0


def test_another_areas_breakdown_cannot_be_picked(client: TestClient, session: Session) -> None:
    other = make_island_set(session, "phuket")
    response = client.post(
        "/areas/krabi/data", data={"name": "จำนวนครู", "category_set_ids": [str(other.id)]}
    )
    assert response.status_code == 422
    assert _count(session, DataItem) == 0
