"""The import writes in batches yet records what saving each value would: one audit event per
changed value with the same content, in the same order. A value changed by someone else after
the file was read fails the whole import with a conflict, and nothing of it is stored."""

import io
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.i18n import gettext
from app.models import KPI, AuditEvent, KPITarget, Measurement, Plan
from app.services import progress, spreadsheets
from app.services.errors import Conflict
from app.services.progress import progress_view
from tests import factories as f

ACTOR = f.ACTOR
STORED = (  # KPI, period, cell, value
    ("KPI1", "AY2566", "actual", "64"),
    ("KPI1", "AY2567", "actual", "66"),
    ("KPI1", "AY2567", "target", "67"),
    ("KPI1", "AY2568", "target", "68"),
    ("KPI2", "AY2567", "actual", "12"),
)
EDITS = {  # (KPI, period) -> {column: new value}; None clears
    ("KPI1", "AY2566"): {"actual": 65, "note": "สอบซ่อม"},  # changed, with a note
    ("KPI1", "AY2567"): {"target": 69, "n_measured": 1830},  # target changed, number added
    ("KPI1", "AY2568"): {"actual": 70.5, "target": None},  # new value, target cleared
    ("KPI1", "AY2570"): {"target": 75.5},  # new target
    ("KPI2", "AY2567"): {"actual": None},  # cleared
}
COLUMNS = {"actual": 6, "target": 7, "n_measured": 8, "note": 9}


def _plan(session: Session, slug: str) -> Plan:
    plan = f.make_plan(session, slug)
    kpis = {code: f.make_kpi(session, plan, code) for code in ("KPI1", "KPI2")}
    for code, period, cell, value in STORED:
        progress.save_cell(
            session,
            actor=ACTOR,
            plan=plan,
            kpi_id=kpis[code].id,
            period=period,
            cell=cell,
            text=value,
        )
    return plan


def _workbook(session: Session, slug: str) -> bytes:
    view = progress_view(session, f.area(session, slug))
    book = load_workbook(io.BytesIO(spreadsheets.export_workbook(view, [])))
    sheet = book.worksheets[0]
    for row in sheet.iter_rows(min_row=2):
        for column, value in EDITS.get((row[0].value, row[3].value), {}).items():
            sheet.cell(row[0].row, COLUMNS[column]).value = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _one_by_one(session: Session, slug: str, data: bytes) -> None:
    """What the import did before it wrote in batches: each row's target, then its measurement,
    through the single-value writes."""
    view = progress_view(session, f.area(session, slug))
    preview = spreadsheets.preview_import(view, data, "กระบี่.xlsx")
    assert preview.ok
    reason = gettext("Imported from %(file)s", file="กระบี่.xlsx")
    for row in preview.rows:
        changed = {c.column for c in row.changes}
        kpi, values = view.kpis[row.kpi.id].kpi, row.values
        if "target" in changed:
            progress.write_target(
                session, ACTOR, view.plan, kpi, row.period, values["target"], reason=reason
            )
        if changed & {"actual", "n_measured", "note"}:
            details = {k: values[k] for k in ("n_measured", "note") if k in changed}
            fields = None if values["actual"] is None else {"value": values["actual"], **details}
            progress.write_measurement(
                session, ACTOR, view.plan, kpi, row.period, fields, reason=reason
            )
    session.commit()


def _events(session: Session, plan: Plan, after_id: int) -> list[tuple[Any, ...]]:
    """The events after `after_id`, without what differs between two areas and two moments."""

    def plain(snapshot: dict[str, Any] | None) -> dict[str, Any] | None:
        if snapshot is None:
            return None
        return {k: v for k, v in snapshot.items() if k not in ("id", "kpi_id", "entered_at")}

    query = select(AuditEvent).where(
        AuditEvent.area_id == plan.area_id, col(AuditEvent.id) > after_id
    )
    return [
        (e.actor, e.entity_type, e.op, e.reason, plain(e.before), plain(e.after), e.entity_id > 0)
        for e in session.exec(query.order_by(col(AuditEvent.id)))
    ]


def _last_event_id(session: Session) -> int:
    return max(session.exec(select(AuditEvent.id)).all())


def test_an_import_records_what_saving_each_value_would(session: Session) -> None:
    krabi, phuket = _plan(session, "krabi"), _plan(session, "phuket")
    last = _last_event_id(session)
    _one_by_one(session, "phuket", _workbook(session, "phuket"))
    result = _apply(session, _workbook(session, "krabi"))
    assert result.applied and result.change_count == 8
    expected = _events(session, phuket, last)
    # KPI1: 2566; 2567's target and value; 2568's target (cleared) and value; 2570's target;
    # KPI2: 2567 cleared
    assert [(kind, op) for _, kind, op, *_ in expected] == [
        ("measurement", "update"),
        ("kpi_target", "update"),
        ("measurement", "update"),
        ("kpi_target", "delete"),
        ("measurement", "create"),
        ("kpi_target", "create"),
        ("measurement", "delete"),
    ]
    assert _events(session, krabi, last) == expected
    assert _values(session, krabi) == _values(session, phuket)
    assert _values(session, krabi) == (
        [
            ("AY2566", 65, None, "สอบซ่อม", 2),
            ("AY2567", 66, 1830, "", 2),
            ("AY2568", 70.5, None, "", 1),
        ],
        [("AY2567", 69), ("AY2570", 75.5)],
    )


def _apply(session: Session, data: bytes, view: Any = None) -> spreadsheets.ImportPreview:
    view = view or progress_view(session, f.area(session, "krabi"))
    return spreadsheets.apply_import(
        session, actor=ACTOR, view=view, data=data, filename="กระบี่.xlsx"
    )


def _values(session: Session, plan: Plan) -> tuple[list[Any], list[Any]]:
    session.expire_all()
    kpi_ids = select(KPI.id).where(KPI.plan_id == plan.id)
    values = session.exec(
        select(
            Measurement.period,
            Measurement.value,
            Measurement.n_measured,
            Measurement.note,
            Measurement.version,
        )
        .where(col(Measurement.kpi_id).in_(kpi_ids))
        .order_by(Measurement.period)
    ).all()
    targets = session.exec(
        select(KPITarget.period, KPITarget.value).where(col(KPITarget.kpi_id).in_(kpi_ids))
    ).all()
    return list(values), sorted(targets)


@pytest.mark.parametrize("period", ["AY2566", "AY2568"], ids=["changed", "added"])
def test_a_value_saved_by_someone_else_after_the_file_was_read_fails_the_whole_import(
    session: Session, engine: Engine, period: str
) -> None:
    krabi = _plan(session, "krabi")
    data = _workbook(session, "krabi")
    before = _values(session, krabi)
    last = _last_event_id(session)
    view = progress_view(session, f.area(session, "krabi"))  # what the import checks against
    with Session(engine) as other:  # another editor saves a value the workbook also changes
        kpi = other.exec(select(KPI).where(KPI.plan_id == krabi.id, KPI.code == "KPI1")).one()
        progress.save_cell(
            other,
            actor=ACTOR,
            plan=other.get(Plan, krabi.id),
            kpi_id=kpi.id,
            period=period,
            cell="actual",
            text="99",
        )
    with pytest.raises(Conflict) as raised:
        _apply(session, data, view)
    session.rollback()
    assert "nothing was saved" in raised.value.message.msgid
    measurements, targets = _values(session, krabi)
    assert targets == before[1]  # not even the targets, written before the conflict was found
    assert (period, 99) in [(p, v) for p, v, *_ in measurements]
    assert len(_events(session, krabi, last)) == 1  # the other editor's save only
