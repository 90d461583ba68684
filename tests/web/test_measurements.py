"""A KPI's page: each period's value with the number measured, a note, evidence (a link or a
checked file kept under var/) and the values of reporting units, rolled up by the KPI's rule."""

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models import AuditEvent, EvidenceFile, Measurement, UnitMeasurement
from app.services import progress
from tests import factories as f

PDF = b"%PDF-1.7\n% a tiny but real-looking PDF header\n"


def _save(client: TestClient, kpi_id: int, period: str, files=None, **data: str):  # noqa: ANN001, ANN202
    return client.post(
        f"/areas/krabi/progress/kpis/{kpi_id}/{period}",
        data=data,
        files=files,
        follow_redirects=False,
    )


def test_a_value_with_its_number_note_and_evidence_file_is_kept_and_downloadable(
    client: TestClient, session: Session
) -> None:
    plan = f.make_plan(session)
    kpi = f.make_kpi(session, plan)
    files = {"evidence": ("ผลสอบ RT ปี 2567.pdf", PDF, "application/pdf")}
    saved = _save(
        client,
        kpi.id,
        "AY2567",
        files=files,
        value="๖๘.๒",
        n_measured="1,830",
        note="สอบครบทุกโรงเรียน ยกเว้นโรงเรียนขนาดเล็ก 3 แห่ง",
        evidence_url="https://example.go.th/rt-2567",
    )
    assert saved.status_code == 303
    assert saved.headers["location"].endswith("?saved=AY2567#period-AY2567")
    m = session.exec(select(Measurement)).one()
    assert (m.value, m.n_measured, m.evidence_url) == (68.2, 1830, "https://example.go.th/rt-2567")
    assert m.note.startswith("สอบครบทุกโรงเรียน") and m.evidence_id is not None

    page = client.get(saved.headers["location"]).text
    assert "บันทึกแล้ว: ปีการศึกษา 2567" in page
    assert "ผลสอบ RT ปี 2567.pdf" in page and "สอบครบทุกโรงเรียน" in page
    download = client.get(f"/areas/krabi/progress/evidence/{m.evidence_id}")
    assert download.status_code == 200 and download.content == PDF
    assert download.headers["content-type"] == "application/pdf"
    assert "attachment" in download.headers["content-disposition"]
    # the file belongs to Krabi: asked for through another area, it is not there
    f.make_plan(session, "phuket")
    assert client.get(f"/areas/phuket/progress/evidence/{m.evidence_id}").status_code == 404


def test_a_file_that_is_not_an_accepted_kind_is_refused_and_nothing_is_kept(
    client: TestClient, session: Session
) -> None:
    plan = f.make_plan(session)
    kpi = f.make_kpi(session, plan)
    files = {"evidence": ("รายงาน.pdf", b"MZ\x90\x00 really a program", "application/pdf")}
    refused = _save(client, kpi.id, "AY2567", files=files, value="68", note="หมายเหตุ")
    assert refused.status_code == 422
    assert "อัปโหลดไฟล์ PDF" in refused.text
    assert 'value="68"' in refused.text and "หมายเหตุ" in refused.text  # input kept
    assert session.exec(select(Measurement)).all() == []
    assert session.exec(select(EvidenceFile)).all() == []

    lonely = _save(client, kpi.id, "AY2567", value="", note="ยังไม่มีผลสอบ")
    assert lonely.status_code == 422 and "ต้องมีค่า" in lonely.text
    assert session.exec(select(Measurement)).all() == []


def test_unit_values_roll_up_into_the_area_value_and_the_grid_cell_follows(
    client: TestClient, session: Session
) -> None:
    plan = f.make_plan(session)
    kpi = f.make_kpi(session, plan, rollup="weighted_mean")
    for name in ("สพป.กระบี่", "สพม.กระบี่"):
        added = client.post(
            "/areas/krabi/progress/units",
            data={"kind": "esa_office", "name": name, "kpi_id": str(kpi.id)},
            follow_redirects=False,
        )
        assert added.status_code == 303
    twice = client.post(
        "/areas/krabi/progress/units",
        data={"kind": "esa_office", "name": "สพป.กระบี่", "kpi_id": str(kpi.id)},
    )
    assert twice.status_code == 422 and "มีหน่วยงานชื่อนี้อยู่แล้ว" in twice.text
    units = progress.units_of(session, plan.area_id)
    assert [u.name for u in units] == ["สพป.กระบี่", "สพม.กระบี่"]

    a, b = (u.id for u in units)
    saved = _save(
        client,
        kpi.id,
        "AY2567",
        value="",
        **{f"unit-{a}-value": "70", f"unit-{a}-n": "300", f"unit-{b}-value": "60"},
        **{f"unit-{b}-n": "100"},
    )
    assert saved.status_code == 303
    m = session.exec(select(Measurement)).one()
    assert (m.value, m.n_measured) == (67.5, 400)  # (70×300 + 60×100) / 400
    assert len(session.exec(select(UnitMeasurement)).all()) == 2
    assert session.exec(
        select(AuditEvent).where(AuditEvent.entity_type == "unit_measurement")
    ).one().after["units"] == {str(a): [70.0, 300], str(b): [60.0, 100]}

    grid = client.put(
        f"/areas/krabi/progress/kpis/{kpi.id}/AY2567/actual",
        headers={"HX-Request": "true"},
        data={"value": "50"},
    )
    assert grid.status_code == 422 and "หน่วยย่อย" in grid.text
    assert session.exec(select(Measurement.value)).one() == 67.5
    cell = f'id="cell-{kpi.id}-AY2567-actual"'
    page = client.get("/areas/krabi/progress").text
    assert "readonly" in page.split(cell)[1].split(">")[0]

    bad = _save(client, kpi.id, "AY2567", **{f"unit-{a}-value": "ดีมาก", f"unit-{b}-value": "60"})
    assert bad.status_code == 422 and 'value="ดีมาก"' in bad.text
    assert session.exec(select(Measurement.value)).one() == 67.5
