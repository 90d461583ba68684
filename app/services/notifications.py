"""Reminders and notifications (issue 24): `collect` finds what each person should be told,
once; `deliver` mails it (now, or in one daily digest) and retries what the mail server refused.

Where notifications come from (all derived, so no other write has to know about them):
- overdue: each KPI period past due without a value (app.status.overdue, as the home page's
  agenda shows it) reminds the area's editors; an agency-scoped editor only of the KPIs its
  agencies lead or co-own. Key `overdue:<kpi>:<period>`: once per KPI and period, ever.
- returned / approved: the audit event of a review round reaching that state tells the area's
  editors (not the reviewer who decided). Key `round:<audit event id>`: a round returned twice
  tells twice, one event never twice.
- reply / mention: the audit event of a new comment tells those who wrote earlier in its thread
  (reply) and those it mentions (mention wins: one notification per comment and person). A
  mention is "@" followed by a person's display name, or by the local part of their e-mail
  (`@somchai` for somchai@example.go.th), resolved only among people who may read the area
  (and, for a note for reviewers, who see those). Key `comment:<id>`.
- workshop: a workshop session opened in an area tells those who hold a role on that area (not
  the facilitator who opened it) while it is open. Sessions open when they are created (there is
  no scheduled opening yet), so this is "a workshop is open now, join with its code".

Events are looked for in the audit trail of the last `LOOKBACK` days, so `phonlap remind` may
miss a day or two (a cron outage) and lose nothing. Exactly once: the unique (person, key)
constraint; a second `collect` (even a parallel one) finds the row or loses the insert race on
that constraint and moves on. Sending claims rows with a lease (`next_attempt_at`) first, so two
parallel `deliver`s never send the same row; a row is marked sent only after the mail server
accepted the mail.
"""

import contextlib
import logging
import random
import re
import smtplib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from app.config import Settings, get_settings
from app.i18n import N_, THAI_TZ, as_utc, format_date, format_datetime, translations
from app.models import (
    Area,
    AuditEvent,
    Comment,
    Notification,
    NotificationSetting,
    RoleGrant,
    RoleGrantAgency,
    User,
    WorkshopSession,
)
from app.models.base import utcnow
from app.models.enums import AuditOp, ReviewState, Role
from app.periods import period_label
from app.services import agenda, comments, scope
from app.services.access import Grant, Permission, Principal
from app.services.errors import Msg, ValidationFailed
from app.services.plan_views import plan_views

log = logging.getLogger("phonlap.remind")

LOOKBACK = timedelta(days=7)  # how far back in the audit trail `collect` looks for events
LEASE = timedelta(minutes=10)  # a sender's claim on the rows it is sending
MAX_BACKOFF = timedelta(hours=6)
FIRST_BACKOFF = timedelta(minutes=5)
PAGE = 100  # notifications listed on the page


class Kind(StrEnum):
    overdue = "overdue"
    returned = "returned"
    approved = "approved"
    reply = "reply"
    mention = "mention"
    workshop = "workshop"


class Mode(StrEnum):
    off = "off"
    now = "now"  # a mail for each, as soon as `phonlap remind` runs
    digest = "digest"  # one mail a day with all of them


DEFAULTS = {
    Kind.overdue: Mode.digest,
    Kind.returned: Mode.now,
    Kind.approved: Mode.now,
    Kind.reply: Mode.now,
    Kind.mention: Mode.now,
    Kind.workshop: Mode.now,
}
KIND_LABELS = {
    Kind.overdue: N_("Overdue values of my KPIs"),
    Kind.returned: N_("A round returned for changes"),
    Kind.approved: N_("A round approved"),
    Kind.reply: N_("Replies in threads I wrote in"),
    Kind.mention: N_("Mentions of me in comments"),
    Kind.workshop: N_("A workshop opened in my area"),
}
MODE_LABELS = {
    Mode.now: N_("E-mail at once"),
    Mode.digest: N_("In the daily digest"),
    Mode.off: N_("Off"),
}
LANGUAGES = {"th": "ไทย", "en": "English"}


# ---- settings -------------------------------------------------------------------------------


def settings_of(session: Session, user_id: int) -> NotificationSetting:
    """The person's settings (the defaults, unsaved, when they never changed them)."""
    return session.get(NotificationSetting, user_id) or _default_setting(user_id)


def _default_setting(user_id: int) -> NotificationSetting:
    return NotificationSetting(user_id=user_id, **{k.value: m.value for k, m in DEFAULTS.items()})


def _settings_for(session: Session, user_ids: Iterable[int]) -> dict[int, NotificationSetting]:
    ids = sorted(set(user_ids))
    found = (
        {
            s.user_id: s
            for s in session.exec(
                select(NotificationSetting).where(col(NotificationSetting.user_id).in_(ids))
            ).all()
        }
        if ids
        else {}
    )
    return {i: found.get(i) or _default_setting(i) for i in ids}


def mode(setting: NotificationSetting, kind: str) -> Mode:
    return Mode(getattr(setting, kind))


def save_settings(
    session: Session, *, principal: Principal, settings_in: dict[str, Any]
) -> NotificationSetting:
    """Validate and save the person's settings (every kind and the language), audited."""
    from app.services import audit

    user = principal.user
    assert user is not None and user.id is not None
    errors: dict[str, Msg] = {}
    values: dict[str, str] = {}
    for kind in Kind:
        value = str(settings_in.get(kind.value) or "")
        if value not in Mode.__members__:
            errors[kind.value] = Msg(N_("Choose one of the options."))
        values[kind.value] = value
    language = str(settings_in.get("language") or "")
    if language not in LANGUAGES:
        errors["language"] = Msg(N_("Choose one of the options."))
    if errors:
        raise ValidationFailed(errors)
    row = session.get(NotificationSetting, user.id)
    before = audit.snapshot(row) if row else None
    row = row or NotificationSetting(user_id=user.id)
    for name, value in values.items():
        setattr(row, name, value)
    row.language = language
    session.add(row)
    session.flush()
    audit.commit(
        session,
        actor=principal.actor,
        area_id=None,
        entity_type="notification_setting",
        entity_id=user.id,
        op=AuditOp.update if before else AuditOp.create,
        before=before,
        after=audit.snapshot(row),
    )
    return row


# ---- collecting -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    user_id: int
    kind: Kind
    key: str
    area_id: int | None
    params: dict[str, Any]
    link: str


@dataclass
class People:
    users: dict[int, User]
    principals: dict[int, Principal]

    def holding(self, area_id: int, roles: set[Role] | None = None) -> list[Principal]:
        """Those with a role given for this very area (not the global ones: administrators
        and reviewers are not reminded of every area's business)."""
        return [
            p
            for p in self.principals.values()
            if any(g.area_id == area_id and (roles is None or g.role in roles) for g in p.grants)
        ]


def _people(session: Session) -> People:
    """Every active person with their grants: two queries."""
    users = {u.id: u for u in session.exec(select(User).where(col(User.is_active))).all()}
    rows = session.exec(
        select(RoleGrant, RoleGrantAgency.agency_id)
        .outerjoin(RoleGrantAgency, col(RoleGrantAgency.grant_id) == RoleGrant.id)
        .where(col(RoleGrant.user_id).in_(list(users) or [0]))
        .order_by(RoleGrant.user_id, RoleGrant.role, RoleGrant.area_id)
    ).all()
    grants: dict[int, dict[int, tuple[RoleGrant, set[int]]]] = defaultdict(dict)
    for grant, agency_id in rows:
        _, agencies = grants[grant.user_id].setdefault(grant.id, (grant, set()))
        if agency_id is not None:
            agencies.add(agency_id)
    principals = {
        uid: Principal(
            user=user,
            grants=tuple(
                Grant(Role(g.role), g.area_id, frozenset(a)) for g, a in grants[uid].values()
            ),
        )
        for uid, user in users.items()
    }
    return People(users, principals)


def _area_params(area: Area) -> dict[str, Any]:
    return {"area_th": area.name_th, "area_en": area.name_en or area.name_th, "slug": area.slug}


def collect(session: Session, now: datetime | None = None) -> int:
    """Create the notifications now due, each at most once per person: how many were new."""
    now = as_utc(now or utcnow())
    people = _people(session)
    found: list[Candidate] = []
    found += _overdue(session, people, now)
    found += _from_audit(session, people, now)
    found += _workshops(session, people, now)
    return _store(session, people, found, now)


def _overdue(session: Session, people: People, now: datetime) -> list[Candidate]:
    editors: dict[int, list[Principal]] = defaultdict(list)
    for principal in people.principals.values():
        for grant in principal.grants:
            if grant.role == Role.editor and grant.area_id is not None:
                editors[grant.area_id].append(principal)
    if not editors:
        return []
    areas = session.exec(select(Area).where(col(Area.id).in_(list(editors)))).all()
    views = plan_views(session, list(areas))
    today = now.astimezone(THAI_TZ).date()
    late = agenda._overdue(session, list(views.values()), today)
    owners = scope.kpi_owners(session, [k.kpi_id for k in late])
    out = []
    for item in late:
        area = item.area
        for principal in {p.user.id: p for p in editors[area.id]}.values():
            if not principal.may_change(area.id, owners.get(item.kpi_id, set())):
                continue
            for period in item.periods:
                out.append(
                    Candidate(
                        principal.user.id,
                        Kind.overdue,
                        f"overdue:{item.kpi_id}:{period}",
                        area.id,
                        {
                            **_area_params(area),
                            "code": item.code,
                            "name": item.name,
                            "period": period,
                        },
                        f"/areas/{area.slug}/progress/kpis/{item.kpi_id}",
                    )
                )
    return out


def _from_audit(session: Session, people: People, now: datetime) -> list[Candidate]:
    events = session.exec(
        select(AuditEvent)
        .where(
            col(AuditEvent.entity_type).in_(["comment", "review_round"]),
            AuditEvent.at >= now - LOOKBACK,
            col(AuditEvent.area_id).is_not(None),
        )
        .order_by(AuditEvent.id)
    ).all()
    if not events:
        return []
    area_ids = {e.area_id for e in events}
    areas = {a.id: a for a in session.exec(select(Area).where(col(Area.id).in_(area_ids))).all()}
    new_comments = [e for e in events if e.entity_type == "comment" and e.op == "create"]
    threads = {
        (e.after or {}).get("parent_id") for e in new_comments if (e.after or {}).get("parent_id")
    }
    writers: dict[int, list[tuple[int, int | None]]] = defaultdict(list)  # thread -> (id, author)
    if threads:
        for cid, parent, author in session.exec(
            select(Comment.id, Comment.parent_id, Comment.author_id).where(
                or_(col(Comment.id).in_(threads), col(Comment.parent_id).in_(threads))
            )
        ).all():
            writers[parent or cid].append((cid, author))
    out: list[Candidate] = []
    for event in events:
        area = areas.get(event.area_id)
        if area is None:
            continue
        if event.entity_type == "review_round":
            out += _round(event, area, people)
        elif event.entity_type == "comment" and event.op == "create":
            out += _comment(event, area, people, writers)
    return out


def _actor_name(people: People, event: AuditEvent) -> str:
    user = people.users.get(event.actor_id) if event.actor_id else None
    return user.display_name if user else event.actor


def _round(event: AuditEvent, area: Area, people: People) -> list[Candidate]:
    after, before = event.after or {}, event.before or {}
    state = after.get("state")
    if state not in (ReviewState.returned, ReviewState.approved) or before.get("state") == state:
        return []
    kind = Kind.returned if state == ReviewState.returned else Kind.approved
    params = {
        **_area_params(area),
        "period": after.get("period", ""),
        "comment": (after.get("comment") or "")[:1000],
        "actor": _actor_name(people, event),
    }
    return [
        Candidate(
            p.user.id, kind, f"round:{event.id}", area.id, params, f"/areas/{area.slug}/progress"
        )
        for p in people.holding(area.id, {Role.editor})
        if p.user.id != event.actor_id
    ]


def _comment(
    event: AuditEvent, area: Area, people: People, writers: dict[int, list[tuple[int, int | None]]]
) -> list[Candidate]:
    after = event.after or {}
    comment_id, author = after.get("id") or event.entity_id, after.get("author_id")
    thread = after.get("parent_id") or comment_id
    internal_only = after.get("visibility") == "reviewers"

    def may_read(p: Principal) -> bool:
        return p.can(Permission.read, area.id) and (not internal_only or comments.sees_internal(p))

    body = str(after.get("body") or "")
    params = {
        **_area_params(area),
        "author": after.get("author_name") or _actor_name(people, event),
        "excerpt": body[:300],
    }
    link = f"/areas/{area.slug}/comments/{thread}"
    told: dict[int, Kind] = {}
    for uid in mentioned(body, people.users.values()):
        told[uid] = Kind.mention
    if after.get("parent_id"):
        for cid, uid in writers.get(thread, []):
            if uid is not None and cid < comment_id:
                told.setdefault(uid, Kind.reply)
    return [
        Candidate(uid, kind, f"comment:{comment_id}", area.id, params, link)
        for uid, kind in told.items()
        if uid != author and uid in people.principals and may_read(people.principals[uid])
    ]


def mentioned(body: str, users: Iterable[User]) -> set[int]:
    """The people an "@name" in the text names: "@" then a display name (as written, any case)
    or the local part of an e-mail address, not followed by more of a name."""
    if "@" not in body:
        return set()
    text = body.casefold()
    found = set()
    for user in users:
        names = {user.display_name.strip().casefold(), user.email.split("@")[0].casefold()}
        for name in names:
            if name and re.search("@" + re.escape(name) + r"(?![\w.-])", text):
                found.add(user.id)
                break
    return found


def _workshops(session: Session, people: People, now: datetime) -> list[Candidate]:
    rows = session.exec(
        select(WorkshopSession, Area)
        .join(Area, col(Area.id) == WorkshopSession.area_id)
        .where(
            WorkshopSession.opened_at >= now - LOOKBACK,
            col(WorkshopSession.closed_at).is_(None),
            WorkshopSession.expires_at > now,
        )
    ).all()
    out = []
    for workshop, area in rows:
        params = {
            **_area_params(area),
            "title": workshop.title,
            "code": workshop.join_code,
            "until": as_utc(workshop.expires_at).isoformat(),
        }
        for principal in people.holding(area.id):
            if principal.user.id != workshop.opened_by:
                out.append(
                    Candidate(
                        principal.user.id,
                        Kind.workshop,
                        f"workshop:{workshop.id}",
                        area.id,
                        params,
                        f"/join/{workshop.join_code}",
                    )
                )
    return out


def _store(session: Session, people: People, found: list[Candidate], now: datetime) -> int:
    settings = _settings_for(session, {c.user_id for c in found})
    wanted = {}
    for c in found:
        how = mode(settings[c.user_id], c.kind)
        if how != Mode.off:
            wanted.setdefault((c.user_id, c.key), (c, how))
    have: set[tuple[int, str]] = set()
    keys = sorted({key for _, key in wanted})
    for start in range(0, len(keys), 500):
        have |= set(
            session.exec(
                select(Notification.user_id, Notification.key).where(
                    col(Notification.key).in_(keys[start : start + 500])
                )
            ).all()
        )
    made = 0
    for (user_id, key), (c, how) in wanted.items():
        if (user_id, key) in have:
            continue
        try:
            with session.begin_nested():  # a parallel run got there first: not twice
                session.add(
                    Notification(
                        user_id=user_id,
                        kind=c.kind.value,
                        key=key,
                        area_id=c.area_id,
                        params=c.params,
                        link=c.link,
                        created_at=now,
                        delivery=how.value,
                    )
                )
            made += 1
        except IntegrityError:
            log.info("notification %s for user %s exists already", key, user_id)
    session.commit()
    return made


# ---- reading --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shown:
    notification: Notification
    subject: str
    body: str


def text(n: Notification, locale: str) -> tuple[str, str]:
    """The notification's subject and body in this language."""
    t = translations(locale).gettext
    p = dict(n.params or {})
    area = p.get("area_th") if locale == "th" else p.get("area_en") or p.get("area_th")
    period = period_label(p.get("period"), locale) if p.get("period") else ""
    fill = {**p, "area": area, "period": period}
    kind = n.kind
    if kind == Kind.overdue:
        subject = t(N_("Overdue value: %(code)s %(name)s, %(period)s")) % fill
        body = t(N_("%(area)s: no value yet for %(period)s, and it is past due.")) % fill
    elif kind == Kind.returned:
        subject = t(N_("%(area)s: %(period)s was returned for changes")) % fill
        body = t(N_("%(actor)s returned it: %(comment)s")) % fill
    elif kind == Kind.approved:
        subject = t(N_("%(area)s: %(period)s was approved")) % fill
        body = t(N_("%(actor)s approved it.")) % fill
    elif kind == Kind.reply:
        subject = t(N_("%(author)s replied in a thread you wrote in (%(area)s)")) % fill
        body = p.get("excerpt", "")
    elif kind == Kind.mention:
        subject = t(N_("%(author)s mentioned you (%(area)s)")) % fill
        body = p.get("excerpt", "")
    elif kind == Kind.workshop:
        until = datetime.fromisoformat(p["until"]) if p.get("until") else None
        subject = t(N_("A workshop is open in %(area)s: %(title)s")) % fill
        body = t(N_("Join with the code %(code)s until %(until)s.")) % {
            **fill,
            "until": format_datetime(until, locale),
        }
    else:
        subject, body = kind, ""
    return subject, body


def listing(session: Session, user_id: int, locale: str) -> list[Shown]:
    rows = session.exec(
        select(Notification)
        .where(Notification.user_id == user_id)
        .order_by(col(Notification.created_at).desc(), col(Notification.id).desc())
        .limit(PAGE)
    ).all()
    return [Shown(n, *text(n, locale)) for n in rows]


def unread_count(session: Session, user_id: int) -> int:
    return session.exec(
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, col(Notification.read_at).is_(None))
    ).one()


def mark_read(session: Session, *, user_id: int, notification_id: int | None = None) -> int:
    """Mark one of the person's notifications read (or all of them): how many changed. Like
    "seen up to" marks, private to the person and not audited."""
    query = (
        update(Notification)
        .where(col(Notification.user_id) == user_id, col(Notification.read_at).is_(None))
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if notification_id is not None:
        query = query.where(col(Notification.id) == notification_id)
    changed = session.exec(query).rowcount  # type: ignore[call-overload]
    session.commit()
    return changed


def own(session: Session, *, user_id: int, notification_id: int) -> Notification | None:
    """One of the person's notifications (None for another's: nobody reads those)."""
    row = session.get(Notification, notification_id)
    return row if row is not None and row.user_id == user_id else None


# ---- delivering -----------------------------------------------------------------------------


class MailFailed(Exception):
    pass


@dataclass
class Mailer:
    """The SMTP server of the configuration; one connection per run, opened when first needed.
    After a failed connection the rest of the run fails at once (no wait per mail)."""

    host: str
    port: int = 25
    user: str = ""
    password: str = ""
    starttls: bool = False
    sender: str = "phonlap@localhost"
    timeout: float = 15
    _smtp: smtplib.SMTP | None = field(default=None, repr=False)
    _broken: str | None = field(default=None, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> "Mailer | None":
        if not settings.smtp_host:
            return None
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            user=settings.smtp_user,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
            sender=settings.mail_from,
        )

    def send(self, message: EmailMessage) -> None:
        if self._broken:
            raise MailFailed(self._broken)
        try:
            if self._smtp is None:
                self._smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
                if self.starttls:
                    self._smtp.starttls()
                if self.user:
                    self._smtp.login(self.user, self.password)
        except (OSError, smtplib.SMTPException) as exc:
            self._smtp = None
            self._broken = f"{type(exc).__name__}: {exc}"[:480]
            raise MailFailed(self._broken) from exc
        try:
            self._smtp.send_message(message)
        except smtplib.SMTPServerDisconnected as exc:
            self._smtp = None
            raise MailFailed(f"{type(exc).__name__}: {exc}"[:480]) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise MailFailed(f"{type(exc).__name__}: {exc}"[:480]) from exc

    def close(self) -> None:
        if self._smtp is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self._smtp.quit()
            self._smtp = None


@dataclass
class Delivered:
    sent: int = 0  # mails the server accepted
    items: int = 0  # notifications in them
    failed: int = 0  # mails refused (their notifications wait for the next run)


def deliver(
    session: Session, now: datetime | None = None, mailer: Mailer | None = None
) -> Delivered:
    """Mail the immediate notifications, and each person's daily digest once a day (from
    `Settings.digest_hour`, Thai time). Nothing is marked sent unless the server accepted it."""
    now = as_utc(now or utcnow())
    done = Delivered()
    if mailer is None:
        return done
    settings = get_settings()
    lease = (now + LEASE).replace(microsecond=random.randrange(1_000_000))
    due = or_(col(Notification.next_attempt_at).is_(None), col(Notification.next_attempt_at) <= now)
    pending = and_(col(Notification.sent_at).is_(None), due)
    claimed = _claim(session, and_(pending, Notification.delivery == Mode.now.value), lease)
    digest_users = _digest_users(session, now, settings.digest_hour)
    if digest_users:
        claimed += _claim(
            session,
            and_(
                pending,
                Notification.delivery == Mode.digest.value,
                col(Notification.user_id).in_(digest_users),
            ),
            lease,
        )
    if not claimed:
        return done
    users = {
        u.id: u
        for u in session.exec(
            select(User).where(col(User.id).in_({n.user_id for n in claimed}))
        ).all()
    }
    prefs = _settings_for(session, users)
    turned_off = [n for n in claimed if mode(prefs[n.user_id], n.kind) == Mode.off]
    for n in turned_off:  # turned off since: listed in the app, never mailed
        n.delivery, n.next_attempt_at = "none", None
        session.add(n)
    session.commit()
    off_ids = {n.id for n in turned_off}
    claimed = [n for n in claimed if n.id not in off_ids]
    batches: list[list[Notification]] = [[n] for n in claimed if n.delivery == Mode.now]
    digests: dict[int, list[Notification]] = defaultdict(list)
    for n in claimed:
        if n.delivery == Mode.digest:
            digests[n.user_id].append(n)
    batches += list(digests.values())
    try:
        for batch in batches:
            user = users.get(batch[0].user_id)
            if user is None or not user.is_active:
                _finish(session, batch, now, sent=True, error="")  # nobody to tell any more
                continue
            locale = prefs[user.id].language
            message = _message(user, batch, locale, now, mailer.sender, settings)
            try:
                mailer.send(message)
            except MailFailed as exc:
                log.warning("mail to %s failed, will retry: %s", user.email, exc)
                _finish(session, batch, now, sent=False, error=str(exc))
                done.failed += 1
                continue
            _finish(session, batch, now, sent=True, error="")
            done.sent += 1
            done.items += len(batch)
    finally:
        mailer.close()
    return done


def _claim(session: Session, condition: Any, lease: datetime) -> list[Notification]:
    """Take the rows to send: mark them with this run's lease in one committed UPDATE, then read
    back those holding it. A parallel run claims other rows or none."""
    session.exec(  # type: ignore[call-overload]
        update(Notification)
        .where(condition)
        .values(next_attempt_at=lease)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return list(
        session.exec(
            select(Notification)
            .where(col(Notification.sent_at).is_(None), Notification.next_attempt_at == lease)
            .order_by(Notification.user_id, Notification.created_at, Notification.id)
            .execution_options(populate_existing=True)
        ).all()
    )


def _digest_users(session: Session, now: datetime, digest_hour: int) -> list[int]:
    """Those whose digest is due: it is past the digest hour in Thailand and they have had no
    digest today."""
    local = now.astimezone(THAI_TZ)
    if local.hour < digest_hour:
        return []
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)
    waiting = set(
        session.exec(
            select(Notification.user_id)
            .where(
                col(Notification.sent_at).is_(None),
                Notification.delivery == Mode.digest.value,
            )
            .distinct()
        ).all()
    )
    if not waiting:
        return []
    had = set(
        session.exec(
            select(Notification.user_id)
            .where(
                Notification.delivery == Mode.digest.value,
                col(Notification.sent_at) >= day_start,
                col(Notification.user_id).in_(waiting),
            )
            .distinct()
        ).all()
    )
    return sorted(waiting - had)


def _finish(
    session: Session, batch: list[Notification], now: datetime, *, sent: bool, error: str
) -> None:
    for n in batch:
        if sent:
            n.sent_at, n.next_attempt_at, n.last_error = now, None, ""
        else:
            n.attempts += 1
            n.last_error = error[:500]
            n.next_attempt_at = now + backoff(n.attempts)
        session.add(n)
    session.commit()


def backoff(attempts: int) -> timedelta:
    """5 min, 10, 20, ... at most 6 hours between tries: a server down for a day loses nothing."""
    return min(FIRST_BACKOFF * 2 ** max(attempts - 1, 0), MAX_BACKOFF)


def _message(
    user: User,
    batch: list[Notification],
    locale: str,
    now: datetime,
    sender: str,
    settings: Settings,
) -> EmailMessage:
    t = translations(locale).gettext
    base = settings.public_url.rstrip("/")
    parts = []
    for n in batch:
        subject, body = text(n, locale)
        parts.append("\n".join(x for x in (subject, body, base + n.link) if x))
    footer = t(N_("Change what you are told, and how: %(url)s")) % {
        "url": base + "/account/notifications"
    }
    if len(batch) == 1 and batch[0].delivery == Mode.now:
        subject = text(batch[0], locale)[0]
    else:
        subject = t(N_("Phonlap: %(count)s reminders, %(date)s")) % {
            "count": len(batch),
            "date": format_date(now, locale),
        }
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = formataddr((user.display_name, user.email))
    message["Message-ID"] = make_msgid(domain="phonlap")
    message["Content-Language"] = locale
    message.set_content("\n\n".join([*parts, footer]) + "\n", charset="utf-8")
    return message
