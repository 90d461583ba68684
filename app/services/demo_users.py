"""Demo accounts, one per role, for `make run` in demo mode only.

They share one random password, printed when they are created and kept in
`demo-accounts.txt` under the var directory (`PHONLAP_VAR_DIR`) of the database that made them
(never in the database in the clear) so a facilitator can find it again. They are created only when the database has no account at all.
"""

import secrets
from pathlib import Path

from sqlmodel import Session, select

from app.config import get_settings
from app.models import Agency, Area, User
from app.services import accounts
from app.services.audit import Actor

DEMO = Actor.process("demo")


def accounts_file() -> Path:
    return Path(get_settings().var_dir) / "demo-accounts.txt"


# email, display name, role, area slug
PEOPLE: tuple[tuple[str, str, str, str | None], ...] = (
    ("admin@demo.phonlap.test", "ผู้ดูแลระบบ (สาธิต)", "admin", None),
    ("reviewer@demo.phonlap.test", "เจ้าหน้าที่ สพฐ. (สาธิต)", "reviewer", None),
    ("editor.phuket@demo.phonlap.test", "เลขานุการคณะกรรมการ ภูเก็ต (สาธิต)", "editor", "phuket"),
    ("viewer.phuket@demo.phonlap.test", "กรรมการ ภูเก็ต (สาธิต)", "viewer", "phuket"),
    ("facilitator@demo.phonlap.test", "วิทยากรกระบวนการ (สาธิต)", "facilitator", "phuket"),
    ("editor.krabi@demo.phonlap.test", "เลขานุการคณะกรรมการ กระบี่ (สาธิต)", "editor", "krabi"),
    (
        "editor.maehongson@demo.phonlap.test",
        "เลขานุการคณะกรรมการ แม่ฮ่องสอน (สาธิต)",
        "editor",
        "mae-hong-son",
    ),
    (
        "editor.esa.phuket@demo.phonlap.test",
        "เจ้าหน้าที่ สพป.ภูเก็ต (สาธิต)",
        "editor",
        "phuket",
    ),
)
# Editors limited to agencies (email -> the codes of their area's agencies): an agency's clerk
# who changes only the KPIs and actions the agency leads or co-owns and the data it keeps.
SCOPES = {"editor.esa.phuket@demo.phonlap.test": ("esa-primary-1",)}


def create(session: Session, path: Path | None = None) -> list[tuple[str, str, str | None]]:
    """Create the demo accounts in an account-less database; returns what was created."""
    if session.exec(select(User.id)).first() is not None:
        return []
    areas = {a.slug: a.id for a in session.exec(select(Area)).all()}
    password = "demo-" + secrets.token_urlsafe(9)
    created = []
    for email, name, role, slug in PEOPLE:
        if slug is not None and slug not in areas:
            continue
        area_id = areas.get(slug) if slug else None
        agency_ids = [
            a
            for code in SCOPES.get(email, ())
            for a in session.exec(
                select(Agency.id).where(Agency.area_id == area_id, Agency.code == code)
            )
        ]
        accounts.create_user(
            session,
            actor=DEMO,
            user_in={"email": email, "display_name": name},
            password=password,
            grant_in={"role": role, "area_id": area_id, "agency_ids": agency_ids},
        )
        created.append((email, role, slug))
    path = path or accounts_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"{email}\t{role}\t{slug or ''}" for email, role, slug in created]
    path.write_text("\n".join([f"password\t{password}", *lines]) + "\n", encoding="utf-8")
    return created
