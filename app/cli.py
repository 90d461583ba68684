"""The `phonlap` command (also `python -m app`)."""

import argparse
import sys

from sqlmodel import Session, select

from app.config import get_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="phonlap", description="Phonlap (ผลลัพธ์)")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the web app")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--reload", action="store_true")
    sub.add_parser("migrate", help="apply database migrations")
    seed = sub.add_parser("seed", help="load reference data (and demo plans)")
    seed.add_argument("--demo", action="store_true", help="also load demo plans into empty areas")
    seed.add_argument(
        "--if-empty",
        action="store_true",
        help="with --demo: only when the database holds no plan at all",
    )
    sub.add_parser("translations", help="extract UI strings into the th/en catalogs")
    args = parser.parse_args(argv)
    commands = {"serve": _serve, "migrate": _migrate, "seed": _seed, "translations": _translations}
    return commands[args.command](args)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    print(f"Phonlap: http://{args.host}:{args.port}/", flush=True)
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        reload=args.reload,
        proxy_headers=False,
    )
    return 0


def _migrate(_args: argparse.Namespace) -> int:
    from app import migrate

    migrate.upgrade(get_settings().database_url)
    print("database is at the latest schema")
    return 0


def _seed(args: argparse.Namespace) -> int:
    from app.db import get_engine
    from app.models import Plan
    from app.services import seeding

    with Session(get_engine(), expire_on_commit=False) as session:
        counts = seeding.seed_reference(session)
        print(f"reference data: {counts}")
        if args.demo:
            if args.if_empty and session.exec(select(Plan.id)).first() is not None:
                print("demo plans: skipped (the database already holds plans)")
                return 0
            loaded = seeding.seed_demo(session)
            print(f"demo plans loaded: {', '.join(loaded) or 'none (areas already had plans)'}")
    return 0


def _translations(_args: argparse.Namespace) -> int:
    from app import catalog

    for locale, missing in catalog.update().items():
        print(f"{locale}: {missing} untranslated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
