"""the problem tree is the only store of problems

Issue 22: the plan's problems were kept twice, as flat entries (problem_entry, the plan editor's
step 2) and as the problem tree (problem_node, since 3a8f61d2c9e4, which copied every entry into
a top-level node). The app now reads and writes the tree only, so problem_entry goes.

Data: every entry is matched to the top-level node the copy made of it (same plan, same text,
the nearest position); an entry with no such node (written after the copy) gets one now, as the
copy did. Then what pointed at an entry points at its node:
- comments on a problem (target_type `problems`) take the node's id;
- workshop contributions accepted as a problem (`problem`) become `problem_node` and its id;
- the audit trail's `problem` events become `problem_node` events of the node, their snapshots
  renamed as the tree names them (problem -> text, evidence -> note, causes kept as written), so
  that the history and the map as of an earlier date keep the problems;
- named plan versions hold the same renamed copies.
Events of entries deleted before the copy keep their type `problem`: they have no node, and
their old ids could be another node's.

Downgrade: problem_entry again, holding each top-level node under the node's own id (its text
the problem, its note the evidence, its direct causes' texts the causes), so that comments and
contributions keep pointing at the same problem; the renamed events stay as they are.
Reviewed by hand.

Revision ID: 5d2e8f1a9b37
Revises: 4b21e7a9c3d5
Create Date: 2026-12-03 03:10:00.000000

"""

from collections import defaultdict
from typing import Any, Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "5d2e8f1a9b37"
down_revision: Union[str, Sequence[str], None] = "4b21e7a9c3d5"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

ENTRY = sa.table(
    "problem_entry",
    sa.column("id", sa.Integer),
    sa.column("plan_id", sa.Integer),
    sa.column("position", sa.Integer),
    sa.column("problem", sa.Text),
    sa.column("causes", sa.Text),
    sa.column("evidence", sa.Text),
    sa.column("affected_groups", sa.Text),
    sa.column("version", sa.Integer),
)
NODE = sa.table(
    "problem_node",
    sa.column("id", sa.Integer),
    sa.column("plan_id", sa.Integer),
    sa.column("parent_id", sa.Integer),
    sa.column("position", sa.Integer),
    sa.column("text", sa.Text),
    sa.column("affected_groups", sa.Text),
    sa.column("note", sa.Text),
    sa.column("urls", sa.Text),
    sa.column("version", sa.Integer),
)
COMMENT = sa.table(
    "comment",
    sa.column("id", sa.Integer),
    sa.column("target_type", sa.String),
    sa.column("target_id", sa.Integer),
)
CONTRIBUTION = sa.table(
    "workshop_contribution",
    sa.column("id", sa.Integer),
    sa.column("accepted_entity", sa.String),
    sa.column("accepted_id", sa.Integer),
)
EVENT = sa.table(
    "audit_event",
    sa.column("id", sa.Integer),
    sa.column("entity_type", sa.String),
    sa.column("entity_id", sa.Integer),
    sa.column("before", sa.JSON),
    sa.column("after", sa.JSON),
)
VERSION = sa.table(
    "plan_version",
    sa.column("id", sa.Integer),
    sa.column("snapshot", sa.JSON),
)
RENAMED = {"problem": "text", "evidence": "note"}


def upgrade() -> None:
    conn = op.get_bind()
    nodes = _entries_to_nodes(conn)
    if nodes:
        _repoint(conn, nodes)
    with op.batch_alter_table("problem_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_problem_entry_plan_id"))
    op.drop_table("problem_entry")


def _entries_to_nodes(conn: sa.Connection) -> dict[int, int]:
    """Entry id -> the id of the top-level node holding it (made now when there is none)."""
    tops: dict[tuple[int, str], list[Any]] = defaultdict(list)
    for node in conn.execute(
        sa.select(NODE.c.id, NODE.c.plan_id, NODE.c.position, NODE.c.text)
        .where(NODE.c.parent_id.is_(None))
        .order_by(NODE.c.id)
    ):
        tops[(node.plan_id, node.text)].append(node)
    found: dict[int, int] = {}
    entries = conn.execute(sa.select(ENTRY).order_by(ENTRY.c.plan_id, ENTRY.c.position, ENTRY.c.id))
    for entry in entries.all():
        same = tops.get((entry.plan_id, entry.problem), [])
        if same:
            node = min(same, key=lambda n: (abs(n.position - entry.position), n.id))
            same.remove(node)
            found[entry.id] = node.id
        else:
            found[entry.id] = _copy(conn, entry)
    return found


def _copy(conn: sa.Connection, entry: Any) -> int:
    """The entry as a top-level node, its causes (when given) one cause under it."""
    last = conn.execute(
        sa.select(sa.func.max(NODE.c.position)).where(
            NODE.c.plan_id == entry.plan_id, NODE.c.parent_id.is_(None)
        )
    ).scalar()
    node_id = conn.execute(
        NODE.insert()
        .values(
            plan_id=entry.plan_id,
            parent_id=None,
            position=(last or 0) + 1,
            text=entry.problem,
            affected_groups=entry.affected_groups or "",
            note=entry.evidence or "",
            urls="",
            version=1,
        )
        .returning(NODE.c.id)
    ).scalar_one()
    if (entry.causes or "").strip():
        conn.execute(
            NODE.insert().values(
                plan_id=entry.plan_id,
                parent_id=node_id,
                position=1,
                text=entry.causes.strip(),
                affected_groups="",
                note="",
                urls="",
                version=1,
            )
        )
    return node_id


def _renamed(snapshot: Any, node_id: int) -> Any:
    if not isinstance(snapshot, dict):
        return snapshot
    out = {RENAMED.get(k, k): v for k, v in snapshot.items()}
    if "id" in out:
        out["id"] = node_id
    out.setdefault("cause_of", None)
    return out


def _repoint(conn: sa.Connection, nodes: dict[int, int]) -> None:
    for entry_id, node_id in nodes.items():
        conn.execute(
            COMMENT.update()
            .where(COMMENT.c.target_type == "problems", COMMENT.c.target_id == entry_id)
            .values(target_id=node_id)
        )
        conn.execute(
            CONTRIBUTION.update()
            .where(
                CONTRIBUTION.c.accepted_entity == "problem", CONTRIBUTION.c.accepted_id == entry_id
            )
            .values(accepted_entity="problem_node", accepted_id=node_id)
        )
    events = conn.execute(
        sa.select(EVENT.c.id, EVENT.c.entity_id, EVENT.c.before, EVENT.c.after).where(
            EVENT.c.entity_type == "problem", EVENT.c.entity_id.in_(list(nodes))
        )
    ).all()
    for event in events:
        node_id = nodes[event.entity_id]
        conn.execute(
            EVENT.update()
            .where(EVENT.c.id == event.id)
            .values(
                entity_type="problem_node",
                entity_id=node_id,
                before=_renamed(event.before, node_id),
                after=_renamed(event.after, node_id),
            )
        )
    for version in conn.execute(sa.select(VERSION.c.id, VERSION.c.snapshot)).all():
        snapshot = version.snapshot or {}
        elements = snapshot.get("elements", [])
        if not any(e.get("type") == "problem" and e.get("id") in nodes for e in elements):
            continue
        changed = []
        for element in elements:
            if element.get("type") == "problem" and element.get("id") in nodes:
                element = {**_renamed(element, nodes[element["id"]]), "type": "problem_node"}
            changed.append(element)
        conn.execute(
            VERSION.update()
            .where(VERSION.c.id == version.id)
            .values(snapshot={**snapshot, "elements": changed})
        )


def downgrade() -> None:
    op.create_table(
        "problem_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("problem", sa.Text(), nullable=False),
        sa.Column("causes", sa.Text(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("affected_groups", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plan.id"], name=op.f("fk_problem_entry_plan_id_plan"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_problem_entry")),
    )
    with op.batch_alter_table("problem_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_problem_entry_plan_id"), ["plan_id"], unique=False)
    conn = op.get_bind()
    rows = conn.execute(sa.select(NODE).order_by(NODE.c.plan_id, NODE.c.position, NODE.c.id)).all()
    causes: dict[int, list[str]] = defaultdict(list)
    for row in rows:
        if row.parent_id is not None:
            causes[row.parent_id].append(row.text)
    tops = [row for row in rows if row.parent_id is None]
    for row in tops:
        conn.execute(
            ENTRY.insert().values(
                id=row.id,
                plan_id=row.plan_id,
                position=row.position,
                problem=row.text,
                causes="\n".join(causes[row.id]),
                evidence=row.note or "",
                affected_groups=row.affected_groups or "",
                version=1,
            )
        )
        conn.execute(
            CONTRIBUTION.update()
            .where(
                CONTRIBUTION.c.accepted_entity == "problem_node",
                CONTRIBUTION.c.accepted_id == row.id,
            )
            .values(accepted_entity="problem")
        )
    if tops and conn.dialect.name == "postgresql":  # ids given by hand: the sequence follows
        conn.execute(
            sa.text(
                "SELECT setval(pg_get_serial_sequence('problem_entry', 'id'),"
                " (SELECT max(id) FROM problem_entry))"
            )
        )
