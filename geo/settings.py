"""Typed settings, read from the environment (prefix ``BLOCKLINE_``) and an optional ``.env`` file.

Examples
--------
>>> s = Settings(home="/tmp/bl", database_url=None)
>>> s.storage_epsg
4549
>>> s.embedded
True
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["PROJECT_ROOT", "DATA_DIR", "Settings", "get_settings"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"


class Settings(BaseSettings):
    """Where the data lives and how it is stored.

    Attributes
    ----------
    database_url
        SQLAlchemy URL of a PostgreSQL + PostGIS database. Unset: the embedded cluster under ``home``.
    home
        Folder of the embedded cluster (``BLOCKLINE_HOME``), default ``.blockline`` in the working directory.
    storage_epsg
        The projected CRS every geometry is stored in: the CGCS2000 3-degree Gauss-Krüger zone of the
        city, without zone prefix (EPSG:4549, central meridian 120°E, for Wenzhou and Yiwu). Fixed when
        the database is created; a database created with another zone is refused.
    pg_bindir
        Folder of the PostgreSQL server binaries; found on its own when unset.
    owner_database_url
        With ``database_url``: the URL of the role that owns the schema; migrations, dump and restore use it,
        the app and the command use ``database_url`` (a role that owns nothing). Unset: ``database_url`` does all.
    token
        ``BLOCKLINE_TOKEN``: the acting user's password, with which the command proves who it is against a
        store given by URL.
    dump_key
        ``BLOCKLINE_DUMP_KEY``: a secret; ``db dump`` signs with it and ``db restore`` accepts only dumps it
        signed (embedded store: ``dump.key`` in ``BLOCKLINE_HOME``, made at the first dump, when unset).
    timezone
        The IANA zone of the planning office (``BLOCKLINE_TIMEZONE``, default ``Asia/Shanghai``): every
        "today" and every timestamp shown or exported is in it; timestamps are stored as ``timestamptz``.
    now
        A fixed "now" (``BLOCKLINE_NOW``, ISO 8601 with an offset) for tests and demonstrations; unset: the
        system clock.
    home_area
        ``BLOCKLINE_HOME_AREA``: the area the deployment serves, one or more administrative codes separated by
        commas (a city ``330300``, a province ``330000`` or counties ``330302,330304``); 一张图 opens on its
        counties. Unset: the city of the first loaded counties.
    tiles
        ``BLOCKLINE_TILES``: set (``1``) by ``blockline/server.py`` in its own process, whose pages then draw
        their maps from its vector tiles.
    oidc_roles_claim, oidc_counties_claim
        The identity server's ID-token claims holding a user's roles and counties (``BLOCKLINE_OIDC_*_CLAIM``).
    tianditu_key, local_tiles
        The Tianditu basemap's key and an intranet tile server's URL template (empty: none).
    leaflet_url, leaflet_draw_url
        Where the map loads Leaflet and Leaflet.draw from (empty: the copies the app serves itself).
    cjk_font
        ``BLOCKLINE_CJK_FONT``: a CJK font file for the documents and paper maps (unset: Debian's
        ``fonts-noto-cjk``).
    """

    model_config = SettingsConfigDict(env_prefix="BLOCKLINE_", env_file=".env", extra="ignore")

    database_url: str | None = None
    home: Path = Field(default_factory=lambda: Path.cwd() / ".blockline")
    storage_epsg: int = 4549
    pg_bindir: Path | None = None
    database_name: str = "blockline"
    user: str = Field(default="cli", description="who the command line acts as, recorded with every write")
    policy: str = Field(default="wenzhou-2020", description="the policy profile used when none is named")
    policy_dir: Path | None = Field(
        default=None,
        description="a folder of more profiles (*.toml), searched before the bundled ones; empty: none",
    )
    tile_cache_mb: int = Field(
        default=128, ge=0, description="memory for the app server's map tiles (0: none)"
    )
    owner_database_url: str | None = Field(
        default=None,
        description="the schema owner's URL for migrations, dump and restore (with database_url)",
    )
    token: str | None = Field(
        default=None, description="the acting user's password, proving who the command is"
    )
    dump_key: str | None = Field(default=None, description="secret that signs and checks dumps (a MAC)")
    max_vertices: int = Field(
        default=100_000,
        ge=4,
        description="vertices a parcel may have before a load "
        "reports it (or refuses it, with refuse_large_geometries)",
    )
    refuse_large_geometries: bool = Field(
        default=False,
        description="refuse a file with a parcel of more than "
        "max_vertices vertices instead of loading and reporting it",
    )
    tile_timeout_ms: int = Field(default=2000, ge=1, description="statement_timeout of one map tile's query")
    tile_pool_size: int = Field(default=4, ge=1, description="database connections kept for map tiles alone")
    tile_queue: int = Field(
        default=16,
        ge=0,
        description="tile requests that may wait for a connection; more are answered 503 with Retry-After",
    )
    session_minutes: float = Field(default=60, gt=0, description="an app session ends after this long unused")
    sign_in_max_failures: int = Field(default=5, ge=1, description="failed sign-ins of a name that lock it")
    sign_in_window_minutes: float = Field(default=15, gt=0, description="how far back failed sign-ins count")
    timezone: str = Field(
        default="Asia/Shanghai", description="the office's time zone for every day and time"
    )
    now: dt.datetime | None = Field(default=None, description="a fixed clock (tests and demonstrations)")
    home_area: str | None = Field(default=None, description="codes of the city, province or counties served")
    tiles: bool = Field(default=False, description="this app process serves the map's vector tiles")
    oidc_roles_claim: str = Field(default="roles", description="the ID token's claim with the user's roles")
    oidc_counties_claim: str = Field(
        default="counties", description="the ID token's claim with the user's counties"
    )
    tianditu_key: str = Field(default="", description="the Tianditu basemap's key (empty: none)")
    leaflet_url: str = Field(default="", description="where the map loads Leaflet from (empty: the app)")
    leaflet_draw_url: str = Field(
        default="", description="where the map loads Leaflet.draw from (empty: the app)"
    )
    local_tiles: str = Field(default="", description="an intranet tile server's URL template (empty: none)")
    cjk_font: str | None = Field(default=None, description="a CJK font file for documents and paper maps")

    @field_validator("timezone", mode="after")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"BLOCKLINE_TIMEZONE 须为 IANA 时区名（如 Asia/Shanghai），而不是“{value}” / "
                f"BLOCKLINE_TIMEZONE must be an IANA zone name such as Asia/Shanghai, not '{value}'"
            ) from None
        return value

    @field_validator("home_area", mode="after")
    @classmethod
    def _area_codes(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        codes = [c.strip() for c in value.replace("，", ",").split(",") if c.strip()]
        if not all(len(c) == 6 and c.isdigit() for c in codes):
            raise ValueError(
                f"BLOCKLINE_HOME_AREA 须为六位行政区划代码（如 330300），多个用逗号分隔，而不是“{value}” / "
                f"BLOCKLINE_HOME_AREA must be six-digit area codes such as 330300, comma-separated, "
                f"not '{value}'"
            )
        return ",".join(codes)

    @field_validator("now", mode="after")
    @classmethod
    def _aware_now(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError(
                "BLOCKLINE_NOW 须带时区偏移（如 2026-12-05T23:30:00+00:00） / "
                "BLOCKLINE_NOW needs an offset, e.g. 2026-12-05T23:30:00+00:00"
            )
        return value

    @field_validator("database_url", "owner_database_url", mode="before")
    @classmethod
    def _normalise_url(cls, value: str | None) -> str | None:
        # Accept the URLs people paste from psql and libpq docs; SQLAlchemy needs the psycopg 3 driver name.
        if value in (None, ""):
            return None
        value = str(value)
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix) :]
        return value

    @field_validator("policy_dir", mode="before")
    @classmethod
    def _unset_if_empty(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("home", mode="after")
    @classmethod
    def _absolute_home(cls, value: Path) -> Path:
        return value.expanduser().absolute()

    @property
    def embedded(self) -> bool:
        """True when blockline runs its own private cluster."""
        return self.database_url is None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read once)."""
    return Settings()
