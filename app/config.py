"""One settings object, read from PHONLAP_* environment variables."""

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PHONLAP_", extra="ignore")

    database_url: str = "sqlite:///var/phonlap.db"
    demo: bool = False
    sql_echo: bool = False


@lru_cache
def get_settings() -> Settings:
    return Settings()
