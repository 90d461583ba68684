"""The `phonlap` command (also `python -m app`)."""

import argparse
import getpass
import sys
from pathlib import Path

from sqlmodel import Session, select

from app.config import get_settings
from app.db import get_engine
from app.models import User
from app.models.enums import Role
from app.services import accounts
from app.services.audit import Actor
from app.services.errors import Msg, NotFound, ValidationFailed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="phonlap", description="Phonlap (ผลลัพธ์)")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the web app")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--reload", action="store_true", help="restart on code changes (development)"
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes (default $PHONLAP_WORKERS or 1; more than one needs PostgreSQL)",
    )
    serve.add_argument(
        "--proxy-headers",
        action="store_true",
        help="behind a reverse proxy: trust its X-Forwarded-For and X-Forwarded-Proto "
        "(the client address and https) when it connects from --forwarded-allow-ips",
    )
    serve.add_argument(
        "--forwarded-allow-ips",
        default=None,
        help="comma-separated addresses of the trusted proxies "
        "(default: $FORWARDED_ALLOW_IPS or 127.0.0.1)",
    )
    sub.add_parser("migrate", help="apply database migrations")
    check = sub.add_parser(
        "check", help="is this installation ready to serve? (exits 1 on a problem)"
    )
    check.add_argument(
        "--workers", type=int, default=None, help="as for serve (default $PHONLAP_WORKERS or 1)"
    )
    seed = sub.add_parser("seed", help="load reference data (and demo plans)")
    seed.add_argument("--demo", action="store_true", help="also load demo plans into empty areas")
    seed.add_argument(
        "--if-empty",
        action="store_true",
        help="with --demo: only when the database holds no plan at all",
    )
    sub.add_parser("translations", help="extract UI strings into the th/en catalogs")
    create_user = sub.add_parser(
        "create-user", help="add an account (the password is read from stdin or asked for)"
    )
    create_user.add_argument("--email", required=True)
    create_user.add_argument("--name", required=True, help="the name shown to others")
    create_user.add_argument("--role", required=True, choices=[r.value for r in Role])
    create_user.add_argument("--area", help="area slug (editor, viewer and facilitator roles)")
    set_password = sub.add_parser("set-password", help="set an account's password")
    set_password.add_argument("--email", required=True)
    create_token = sub.add_parser("create-token", help="make a personal API token")
    create_token.add_argument("--email", required=True)
    create_token.add_argument("--name", default="command line", help="what the token is for")
    _backup_parsers(sub)
    sub.add_parser(
        "remind",
        help="create the reminders now due and mail them (run it from cron or a systemd timer)",
    )
    args = parser.parse_args(argv)
    commands = {
        "serve": _serve,
        "migrate": _migrate,
        "check": _check,
        "seed": _seed,
        "translations": _translations,
        "create-user": _create_user,
        "set-password": _set_password,
        "create-token": _create_token,
        "backup": _backup,
        "restore": _restore,
        "remind": _remind,
    }
    try:
        return commands[args.command](args)
    except (ValidationFailed, NotFound) as exc:
        print(f"phonlap: {_explain(exc)}", file=sys.stderr)
        return 1


def _explain(exc: Exception) -> str:
    if isinstance(exc, ValidationFailed):
        return "; ".join(
            f"{name}: {msg.msgid % msg.params if msg.params else msg.msgid}"
            for name, msg in exc.errors.items()
        )
    return f"not found: {exc}"


def _read_password(prompt: str = "Password: ") -> str:
    """From stdin when it is not a terminal (scripts), else asked twice without echo."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass(prompt)
    if getpass.getpass("Again: ") != first:
        raise ValidationFailed({"password": Msg("The two passwords differ.")})
    return first


CLI = Actor.process("command line")


def _account(session: Session, email: str) -> User:
    user = accounts.find_user(session, email)
    if user is None:
        raise NotFound(email)
    return user


def _create_user(args: argparse.Namespace) -> int:
    from app.services.reference import get_area

    with Session(get_engine(), expire_on_commit=False) as session:
        area_id = get_area(session, args.area).id if args.area else None
        user = accounts.create_user(
            session,
            actor=CLI,
            user_in={"email": args.email, "display_name": args.name},
            password=_read_password(),
            grant_in={"role": args.role, "area_id": area_id},
        )
        print(f"created {user.email} ({args.role}{' of ' + args.area if args.area else ''})")
    return 0


def _set_password(args: argparse.Namespace) -> int:
    with Session(get_engine(), expire_on_commit=False) as session:
        user = _account(session, args.email)
        accounts.set_password(session, actor=CLI, user=user, password=_read_password())
        print(f"password set for {user.email}; their sign-ins have ended")
    return 0


def _create_token(args: argparse.Namespace) -> int:
    with Session(get_engine(), expire_on_commit=False) as session:
        user = _account(session, args.email)
        _token, plain = accounts.create_token(
            session, actor=CLI, user=user, token_in={"name": args.name}
        )
    print(plain)  # only the token on stdout, so scripts can capture it
    return 0


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = get_settings()
    args.workers = args.workers or settings.workers
    problem = settings.serving_problem() or settings.workers_problem(args.workers)
    if args.reload and args.workers > 1:
        problem = "--reload runs one process: leave out --workers."
    if problem:
        print(f"phonlap: {problem}", file=sys.stderr)
        return 2
    workers = f" ({args.workers} workers)" if args.workers > 1 else ""
    print(f"Phonlap: http://{args.host}:{args.port}/{workers}", flush=True)
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        reload=args.reload,
        workers=args.workers,
        proxy_headers=args.proxy_headers,
        forwarded_allow_ips=args.forwarded_allow_ips,
    )
    return 0


def _check(args: argparse.Namespace) -> int:
    from app import checks

    settings = get_settings()
    findings = checks.run(settings, args.workers or settings.workers)
    for finding in findings:
        print(f"{finding.level:<4}  {finding.topic}: {finding.detail}")
    failed = sum(finding.level == checks.FAIL for finding in findings)
    print(f"{failed} problem(s)" if failed else "ready")
    return 1 if failed else 0


def _migrate(_args: argparse.Namespace) -> int:
    from app import migrate

    migrate.upgrade(get_settings().database_url)
    print("database is at the latest schema")
    return 0


def _seed(args: argparse.Namespace) -> int:
    from app.models import Plan
    from app.services import seeding

    with Session(get_engine(), expire_on_commit=False) as session:
        counts = seeding.seed_reference(session)
        print(f"reference data: {counts}")
        if args.demo and get_settings().demo:
            _demo_users(session)
        if args.demo:
            if args.if_empty and session.exec(select(Plan.id)).first() is not None:
                print("demo plans: skipped (the database already holds plans)")
                return 0
            loaded = seeding.seed_demo(session)
            print(f"demo plans loaded: {', '.join(loaded) or 'none (areas already had plans)'}")
    return 0


def _demo_users(session: Session) -> None:
    from app.services import demo_users

    demo_users.create(session)
    path = demo_users.accounts_file()
    if path.exists():
        print(f"demo accounts (demo mode only), from {path}:")
        for line in path.read_text(encoding="utf-8").splitlines():
            print("  " + "  ".join(part for part in line.split("\t") if part))


def _backup_parsers(sub: argparse._SubParsersAction) -> None:
    pg_bin = {
        "type": Path,
        "help": "folder of pg_dump/pg_restore of the server's version "
        "(default: found under /usr/lib/postgresql)",
    }
    backup = sub.add_parser(
        "backup", help="back up the database and the evidence files into a new directory"
    )
    backup.add_argument("dir", type=Path, help="a new (or empty) directory")
    backup.add_argument("--pg-bin", **pg_bin)
    restore = sub.add_parser("restore", help="restore a backup into an empty database")
    restore.add_argument("dir", type=Path, help="a directory written by `phonlap backup`")
    restore.add_argument("--pg-bin", **pg_bin)


def _backup(args: argparse.Namespace) -> int:
    from app.services import backups

    settings = get_settings()
    try:
        done = backups.backup(
            args.dir,
            database_url=settings.database_url,
            var_dir=Path(settings.var_dir),
            pg_bin=args.pg_bin,
        )
    except (backups.BackupError, OSError) as exc:
        print(f"phonlap: backup failed: {exc}", file=sys.stderr)
        return 1
    db = done.manifest["database"]
    print(
        f"backup written to {done.folder}: the {db['kind']} database at schema revision "
        f"{db['revision']} and {done.evidence_files} evidence files"
    )
    return 0


def _restore(args: argparse.Namespace) -> int:
    from app.services import backups

    settings = get_settings()
    try:
        done = backups.restore(
            args.dir,
            database_url=settings.database_url,
            var_dir=Path(settings.var_dir),
            pg_bin=args.pg_bin,
        )
    except (backups.BackupError, OSError) as exc:
        print(f"phonlap: restore failed: {exc}", file=sys.stderr)
        return 1
    made = done.manifest
    print(
        f"restored {done.folder} (made {made['created_at']} by Phonlap {made['app_version']}): "
        f"the database at schema revision {made['database']['revision']} and "
        f"{done.evidence_files} evidence files"
    )
    if done.needs_migrate:
        print("the backup's schema is older than this version's: run `phonlap migrate` now")
    return 0


def _remind(_args: argparse.Namespace) -> int:
    from app.services import notifications

    mailer = notifications.Mailer.from_settings(get_settings())
    with Session(get_engine(), expire_on_commit=False) as session:
        made = notifications.collect(session)
        done = notifications.deliver(session, mailer=mailer)
    print(f"reminders: {made} new")
    if mailer is None:
        print("mail: off (PHONLAP_SMTP_HOST is not set); the reminders are listed in the app only")
        return 0
    print(f"mail: {done.sent} sent ({done.items} reminders), {done.failed} failed")
    if done.failed:
        print("the failed ones are kept and tried again on a later run", file=sys.stderr)
    return 1 if done.failed else 0


def _translations(_args: argparse.Namespace) -> int:
    from app import catalog

    for locale, missing in catalog.update().items():
        print(f"{locale}: {missing} untranslated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
