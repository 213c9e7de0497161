"""The server's limits and keys, from TOXICITY_* environment variables (pydantic-settings)."""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from toxicity_pyfunc.service.overload import parse_rate


class ServiceSettings(BaseSettings):
    """Every knob of `toxicity-serve`; a bad value stops the server at start, naming the variable."""

    model_config = SettingsConfigDict(env_prefix="TOXICITY_", frozen=True, extra="ignore")

    max_body_bytes: int = Field(default=1024 * 1024, gt=0, description="largest request body")
    max_rows: int = Field(default=1024, gt=0, description="most texts in one request")
    api_keys: str = Field(default="", description="comma-separated keys; empty: the scoring routes are open")
    request_timeout: float = Field(
        default=60.0, gt=0, description="seconds a request may take; then 503 and its work is dropped"
    )
    header_timeout: float = Field(
        default=10.0, gt=0, description="seconds a new connection may take to send its request headers"
    )
    drain_seconds: float = Field(
        default=30.0, ge=0, description="after SIGTERM, how long requests in flight may still finish"
    )
    drain_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=0,
        description="how much of a too-large body is read and discarded so the client sees the 413",
    )
    rate_limit: str = Field(
        default="",
        description="requests per API key (per client address without keys), e.g. 10/second; empty: none",
    )
    max_texts_in_flight: int = Field(
        default=0,
        ge=0,
        description=(
            "texts accepted and not yet answered; a request past it gets 503 and Retry-After at once "
            "(0: 8 per CPU core the server may use, 512 on a GPU)"
        ),
    )
    metrics_open: bool = Field(
        default=False, description="serve /metrics without an API key (for a scraper inside the network)"
    )

    @field_validator("rate_limit")
    @classmethod
    def _rate(cls, value: str) -> str:
        if value.strip():
            parse_rate(value.strip())
        return value.strip()

    @field_validator("api_keys")
    @classmethod
    def _strip(cls, value: str) -> str:
        return ",".join(key.strip() for key in value.split(",") if key.strip())

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(self.api_keys.split(",")) if self.api_keys else ()
