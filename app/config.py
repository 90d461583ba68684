"""One settings object, read from PHONLAP_* environment variables."""

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET = "phonlap-demo-secret-key-never-use-in-production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PHONLAP_", extra="ignore")

    database_url: str = "sqlite:///var/phonlap.db"
    var_dir: str = "var"  # uploaded evidence files live here (imports wait in the database)
    public_url: str = ""  # the address people open, e.g. https://phonlap.example.go.th
    page_cache_mb: float = 32  # per worker, for pages served again unchanged (0: off)
    workers: int = 1  # worker processes of `phonlap serve` (more than one needs PostgreSQL)
    # per worker, for the routes' database work (None: `route_threads`, by the database)
    threads: int | None = Field(default=None, ge=1, le=200)
    demo: bool = False
    dev: bool = False  # a developer's machine: the default secret key is allowed
    sql_echo: bool = False
    secret_key: str = DEFAULT_SECRET
    session_hours: int = 12  # a sign-in lasts this long without use; each use extends it
    session_max_days: int = 30  # ...but never longer than this
    login_attempts: int = 5  # failures per account and per address before a pause
    login_window_minutes: int = 15
    # argon2id; the defaults follow RFC 9106's second recommended option (64 MiB, 3 passes)
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    # reminders (`phonlap remind`): the mail server; no host, no mail (the in-app list still fills)
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    mail_from: str = "Phonlap <phonlap@localhost>"
    digest_hour: int = 7  # the daily digest goes from this hour on, Thai time

    def serving_problem(self) -> str | None:
        """Why the web app must not start with these settings, if it must not."""
        if self.secret_key == DEFAULT_SECRET and not (self.demo or self.dev):
            return (
                "PHONLAP_SECRET_KEY is not set. Set it to a long random value "
                '(python -c "import secrets; print(secrets.token_urlsafe(48))"), '
                "or set PHONLAP_DEMO=1 / PHONLAP_DEV=1 on a demo or developer machine."
            )
        if len(self.secret_key) < 32:
            return "PHONLAP_SECRET_KEY must be at least 32 characters long."
        return None

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def workers_problem(self, workers: int) -> str | None:
        """Why this many worker processes cannot share the database, if they cannot."""
        if workers < 1:
            return "--workers must be at least 1."
        if workers > 1 and self.is_sqlite:
            return (
                f"{workers} workers need PostgreSQL: SQLite serves one worker only (its writes "
                "lock the whole file). Set PHONLAP_DATABASE_URL=postgresql+psycopg://… "
                "or serve with --workers 1."
            )
        return None


class UnsafeSettings(RuntimeError):
    pass


def check_for_serving(settings: Settings) -> None:
    problem = settings.serving_problem()
    if problem:
        raise UnsafeSettings(problem)


@lru_cache
def get_settings() -> Settings:
    return Settings()


SQLITE_THREADS = 2  # the routes' threads of a worker on SQLite, unless set (`route_threads`)
POSTGRES_THREADS = 8


def route_threads(settings: Settings) -> int:
    """How many threads a worker runs its routes' database work on: `PHONLAP_THREADS`, else 2 on
    SQLite and 8 on PostgreSQL. Threads take turns on the interpreter's lock: on SQLite a query
    is a call into the library (microseconds, no waiting on a server), so more threads only
    fight for that lock, and a writer holding SQLite's write lock waits for it between its
    statements while the other writers wait for that. A hall of 720 phones voting on one worker
    (benchmarks/workshop_event.py) was answered a dot in 6.6 s (p50) with anyio's 40 threads,
    0.3 s with 8 and 24 ms with 2. PostgreSQL's queries wait on the server, time other threads
    use."""
    if settings.threads is not None:
        return settings.threads
    sqlite = settings.database_url.startswith("sqlite")
    return SQLITE_THREADS if sqlite else POSTGRES_THREADS
