"""Reading the store: current (or as-of) administrative areas, block lines and parcels as GeoDataFrames.

Every reader takes the engine and keyword options and returns a new GeoDataFrame in the storage CRS.
``as_of`` reads history: the rows whose lifespan covers that instant (LADM begin/endLifespanVersion).

Examples
--------
>>> _lifespan_clause(None)
'valid_to IS NULL'
"""

from __future__ import annotations

import datetime as dt
import io
from typing import TYPE_CHECKING

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from geo.area import M2_PER_MU_SQL
from geo.errors import InputError
from geo.parcel_fields import PARCEL_FIELDS
from geo.store import connected, driver_connection

# geopandas, pandas and pyarrow are imported by the readers that use them: every command imports this module
# (the store's version, the clauses of a date), and a stored answer needs none of them (0.6 s of start-up)
if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

__all__ = [
    "county_names",
    "county_totals",
    "find_parcels",
    "parcel_totals",
    "read_admin_areas",
    "read_blocklines",
    "read_parcel_columns",
    "read_parcels",
    "read_ratings",
    "store_counts",
    "PARCEL_COLUMNS",
    "RULE_COLUMNS",
]

PARCEL_COLUMNS = ["parcel_no", *[f for f in PARCEL_FIELDS if f != "parcel_no"], "area_mu", "source_area_mu"]

#: the parcel columns the idle, lifecycle and low-efficiency rules read (``zoning.idle.NEEDED``,
#: ``zoning.lifecycle.NEEDED``, the scope's ``land_use``, the survey's ``is_low_efficiency`` and ``area_mu``)
RULE_COLUMNS = [
    "parcel_no",
    "holder_id",
    "land_use",
    *[f for f, k in PARCEL_FIELDS.items() if k == "date"],
    *[f for f, k in PARCEL_FIELDS.items() if k in ("number", "nonneg")],
    "is_low_efficiency",
    "area_mu",
]

#: column → how it is read by COPY: text, date, float, bool, int, json
_KINDS = {
    **{
        f: {"text": "text", "code6": "text", "date": "date", "bool": "bool"}.get(k, "float")
        for f, k in PARCEL_FIELDS.items()
    },
    "area_mu": "float",
    "source_area_mu": "float",
    "extra": "json",
    "county_shares": "json",
    "year": "int",
    "grade": "text",
}


def _lifespan_clause(as_of: dt.datetime | dt.date | None) -> str:
    if as_of is None:
        return "valid_to IS NULL"
    return "valid_from <= :as_of AND (valid_to IS NULL OR valid_to > :as_of)"


def _as_of_param(as_of: dt.datetime | dt.date | None) -> dict[str, object]:
    if as_of is None:
        return {}
    if isinstance(as_of, dt.datetime):
        return {"as_of": as_of}
    # A date means the end of that day in the city's time zone: what stood on that date.
    return {
        "as_of": dt.datetime.combine(as_of, dt.time(23, 59, 59), tzinfo=dt.timezone(dt.timedelta(hours=8)))
    }


def read_admin_areas(engine: Engine, *, level: str | None = None) -> gpd.GeoDataFrame:
    """Administrative areas (code, name, level, parent_code, geometry)."""
    import geopandas as gpd  # lazy: see the module's imports

    where = "WHERE level = :level" if level else ""
    with engine.connect() as conn:
        return gpd.read_postgis(
            sa.text(f"SELECT code, name, level, parent_code, geom FROM admin_areas {where} ORDER BY code"),
            conn,
            geom_col="geom",
            params={"level": level} if level else {},
        ).rename_geometry("geometry")


def county_names(engine: Engine) -> dict[str, str]:
    """County code → name, for lists that name the county (the public list, YW §17)."""
    with engine.connect() as conn:
        return dict(conn.execute(sa.text("SELECT code, name FROM admin_areas WHERE level = 'county'")).all())


def read_blocklines(
    engine: Engine,
    *,
    level: int | None = None,
    county: str | None = None,
    as_of: dt.datetime | dt.date | None = None,
) -> gpd.GeoDataFrame:
    """Block lines current now, or standing at ``as_of``; with area_mu."""
    import geopandas as gpd  # lazy: see the module's imports

    clauses = [_lifespan_clause(as_of)]
    params = _as_of_param(as_of)
    if level is not None:
        clauses.append("level = :level")
        params["level"] = level
    if county is not None:
        clauses.append("county_code = :county")
        params["county"] = county
    sql = f"""SELECT id, level, county_code, name, approval_doc, valid_from, valid_to,
                     ST_Area(geom) / {M2_PER_MU_SQL} AS area_mu, geom
              FROM block_lines WHERE {" AND ".join(clauses)} ORDER BY level, county_code, id"""
    with engine.connect() as conn:
        return gpd.read_postgis(sa.text(sql), conn, geom_col="geom", params=params).rename_geometry(
            "geometry"
        )


def read_parcels(
    engine: Engine,
    *,
    county: str | None = None,
    as_of: dt.datetime | dt.date | None = None,
    parcel_nos: list[str] | None = None,
    geometry: bool = True,
) -> gpd.GeoDataFrame | pd.DataFrame:
    """Parcels current now (or at ``as_of``), optionally of one county, with their canonical fields.

    ``geometry=False`` reads the attributes only (a plain DataFrame, by ``read_parcel_columns``), several
    times faster at city scale, for the rules that need no shapes (idle land, the lifecycle).
    """
    import geopandas as gpd  # lazy: see the module's imports
    import pandas as pd  # lazy: with the line above

    clauses = [_lifespan_clause(as_of)]
    params = _as_of_param(as_of)
    if county is not None:
        clauses.append("county_code = :county")
        params["county"] = county
    if parcel_nos is not None:
        clauses.append("parcel_no = ANY(:nos)")
        params["nos"] = list(parcel_nos)
    if not geometry:
        return read_parcel_columns(
            engine,
            [*PARCEL_COLUMNS, "extra", "county_shares"],
            county=county,
            as_of=as_of,
            parcel_nos=parcel_nos,
        )
    cols = ", ".join(PARCEL_COLUMNS)
    sql = f"SELECT {cols}, extra, county_shares, geom FROM parcels WHERE {' AND '.join(clauses)} ORDER BY parcel_no"
    with engine.connect() as conn:
        gdf = gpd.read_postgis(sa.text(sql), conn, geom_col="geom", params=params).rename_geometry("geometry")
    for c in PARCEL_COLUMNS:
        if c.endswith("_on") or c == "operating_since":
            gdf[c] = pd.to_datetime(gdf[c]).dt.date.astype(object).where(gdf[c].notna(), None)
    return gdf


def read_parcel_columns(
    engine: Engine | Connection,
    columns: list[str] | None = None,
    *,
    county: str | None = None,
    as_of: dt.datetime | dt.date | None = None,
    parcel_nos: list[str] | None = None,
    date_objects: bool = True,
) -> pd.DataFrame:
    """Some attributes of the parcels current now (or at ``as_of``), without geometry, by parcel number.

    Read by ``COPY (SELECT …) TO STDOUT`` in CSV, parsed by pyarrow: about twice as fast as rows through
    the driver (measured: bench/results_commands.md), into the dtypes ``read_parcels(geometry=False)`` always
    gave (pandas' own inference from rows: text ``str``, numbers ``float64``, dates ``datetime.date``/None
    objects, ``is_low_efficiency`` ``bool`` or objects where one is NULL, ``extra`` dicts, a column with
    no value at all objects of None).

    Parameters
    ----------
    engine : sqlalchemy.engine.Engine
        The store.
    columns : list of str, optional
        Which of ``PARCEL_COLUMNS`` and ``extra``, in this order; default ``RULE_COLUMNS``.
    county, as_of, parcel_nos
        As for ``read_parcels``.
    date_objects : bool, default True
        False: dates as ``datetime64`` (NaT when missing), as the rules of ``zoning`` take them too; a
        fifth of the memory and no Python object per date.

    Returns
    -------
    pandas.DataFrame
        One row per parcel, ordered by ``parcel_no``, index 0…n−1.
    """
    cols = list(RULE_COLUMNS if columns is None else columns)
    unknown = [c for c in cols if c not in _KINDS or c in ("year", "grade")]
    if unknown:
        raise ValueError(f"not a parcel column: {', '.join(unknown)}")
    clauses = [_lifespan_clause(as_of).replace(":as_of", "%(as_of)s")]
    params = _as_of_param(as_of)
    if county is not None:
        clauses.append("county_code = %(county)s")
        params["county"] = county
    if parcel_nos is not None:
        clauses.append("parcel_no = ANY(%(nos)s)")
        params["nos"] = list(parcel_nos)
    sql = f"SELECT {', '.join(cols)} FROM parcels WHERE {' AND '.join(clauses)} ORDER BY parcel_no"
    return _copy_frame(engine, sql, params, cols, date_objects=date_objects)


def _copy_frame(
    engine: Engine | Connection,
    sql: str,
    params: dict[str, object],
    columns: list[str],
    *,
    date_objects: bool = True,
) -> pd.DataFrame:
    """The rows of ``sql`` (psycopg placeholders) by COPY … CSV and pyarrow, typed as ``pd.read_sql`` types rows."""
    import pandas as pd  # lazy: see the module's imports
    import pyarrow as pa  # lazy: with the line above
    from pyarrow import csv  # lazy: with the line above

    kinds = [_KINDS[c] for c in columns]
    arrow = {
        "text": pa.string(),
        "date": pa.date32(),
        "float": pa.float64(),
        "bool": pa.bool_(),
        "int": pa.int64(),
        "json": pa.string(),
    }
    buf = io.BytesIO()
    with connected(engine) as conn:
        raw = driver_connection(conn)
        with raw.cursor() as cur, cur.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)", params or None) as copy:
            for block in copy:
                buf.write(block)
    table = (
        csv.read_csv(
            pa.py_buffer(buf.getbuffer()),
            read_options=csv.ReadOptions(column_names=columns),
            convert_options=csv.ConvertOptions(
                column_types={c: arrow[k] for c, k in zip(columns, kinds, strict=True)},
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,
                true_values=["t"],
                false_values=["f"],
            ),
        )
        if buf.tell()
        else None
    )
    out: dict[str, pd.Series] = {}
    for c, k in zip(columns, kinds, strict=True):
        if table is None or table.column(c).null_count == len(table):
            out[c] = pd.Series(
                [None] * (0 if table is None else len(table)), dtype=object
            )  # as rows of None type
        elif k == "json":
            out[c] = pd.Series(
                [None if v is None else orjson.loads(v) for v in table.column(c).to_pylist()], dtype=object
            )
        else:  # dates as datetime.date objects (or datetime64), bools with NULLs as objects
            out[c] = table.column(c).to_pandas(date_as_object=date_objects)
    return pd.DataFrame(out, columns=columns)


def find_parcels(
    engine: Engine, text: str, *, county: str | None = None, limit: int = 50
) -> tuple[int, gpd.GeoDataFrame]:
    """Current parcels whose number or holder contains ``text`` (case-insensitive, literal).

    Returns (how many, the first ``limit`` with geometry), exact parcel numbers first. The matching is done by
    the database, so a search of 200,000 parcels reads only what it shows.
    """
    import geopandas as gpd  # lazy: see the module's imports

    q = text.strip()
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in q):
        # no parcel number or holder holds one, and a NUL cannot even be sent to PostgreSQL
        raise InputError(
            "搜索内容含有控制字符（如 NUL），无法搜索",
            "the search text contains a control character (such as NUL) and cannot be searched",
            fix_zh="删除这些字符后重新搜索宗地编号或权利人",
            fix_en="remove it and search a parcel number or holder again",
        )
    pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    where = "valid_to IS NULL AND (parcel_no ILIKE :p OR holder ILIKE :p)" + (
        " AND county_code = :county" if county else ""
    )
    params = {"p": pattern, "q": q.casefold(), "county": county, "limit": int(limit)}
    with engine.connect() as conn:
        total = (
            int(conn.execute(sa.text(f"SELECT count(*) FROM parcels WHERE {where}"), params).scalar_one())
            if q
            else 0
        )
        gdf = gpd.read_postgis(
            sa.text(f"""
            SELECT parcel_no, holder, land_use, county_code, area_mu, geom FROM parcels WHERE {where} AND :q <> ''
            ORDER BY lower(parcel_no) = :q DESC, parcel_no LIMIT :limit"""),
            conn,
            geom_col="geom",
            params=params,
        ).rename_geometry("geometry")
    return total, gdf


def parcel_totals(
    engine: Engine, *, county: str | None = None, as_of: dt.datetime | dt.date | None = None
) -> dict[str, float]:
    """Counted by the database: current parcels (number, 亩) and the block lines standing at ``as_of`` (亩 by level)."""
    county_clause = " AND county_code = :county" if county else ""
    params = {"county": county, **_as_of_param(as_of)}
    with engine.connect() as conn:
        row = (
            conn.execute(
                sa.text(f"""
            SELECT (SELECT count(*) FROM parcels WHERE valid_to IS NULL{county_clause}) AS parcels,
                   (SELECT coalesce(sum(area_mu), 0) FROM parcels WHERE valid_to IS NULL{county_clause}) AS parcels_mu,
                   (SELECT coalesce(sum(ST_Area(geom)), 0) / {M2_PER_MU_SQL} FROM block_lines
                    WHERE level = 1 AND {_lifespan_clause(as_of)}{county_clause}) AS level1_mu,
                   (SELECT coalesce(sum(ST_Area(geom)), 0) / {M2_PER_MU_SQL} FROM block_lines
                    WHERE level = 2 AND {_lifespan_clause(as_of)}{county_clause}) AS level2_mu"""),
                params,
            )
            .mappings()
            .one()
        )
    return {k: (int(v) if k == "parcels" else float(v)) for k, v in row.items()}


def county_totals(engine: Engine) -> pd.DataFrame:
    """Counted by the database, per county: current block lines (亩 and number, by level) and parcels.

    One row per county-level administrative area (by code), then one per other county code found on block
    lines or parcels (an empty code for those in no county), in code order. Columns: county, name,
    level1_mu, level2_mu, parcels, parcels_mu, level1_lines, level2_lines. Block-line 亩 are ``ST_Area`` in
    the storage CRS, as ``read_blocklines`` gives them; parcel 亩 are the stored ``area_mu``. Nothing but
    the sums leaves the database, so a city of 200,000 parcels costs one scan of each table.
    """
    import pandas as pd  # lazy: see the module's imports

    sql = f"""
        WITH c AS (SELECT code AS county, name FROM admin_areas WHERE level = 'county'),
        l AS (SELECT coalesce(county_code, '') AS county,
                     coalesce(sum(ST_Area(geom)) FILTER (WHERE level = 1), 0) / {M2_PER_MU_SQL} AS level1_mu,
                     coalesce(sum(ST_Area(geom)) FILTER (WHERE level = 2), 0) / {M2_PER_MU_SQL} AS level2_mu,
                     count(*) FILTER (WHERE level = 1) AS level1_lines,
                     count(*) FILTER (WHERE level = 2) AS level2_lines
              FROM block_lines WHERE valid_to IS NULL GROUP BY 1),
        p AS (SELECT coalesce(county_code, '') AS county, count(*) AS parcels, sum(area_mu) AS parcels_mu
              FROM parcels WHERE valid_to IS NULL GROUP BY 1),
        k AS (SELECT county FROM c UNION SELECT county FROM l UNION SELECT county FROM p)
        SELECT k.county, coalesce(c.name, '') AS name,
               coalesce(l.level1_mu, 0) AS level1_mu, coalesce(l.level2_mu, 0) AS level2_mu,
               coalesce(p.parcels, 0) AS parcels, coalesce(p.parcels_mu, 0) AS parcels_mu,
               coalesce(l.level1_lines, 0) AS level1_lines, coalesce(l.level2_lines, 0) AS level2_lines
        FROM k LEFT JOIN c USING (county) LEFT JOIN l USING (county) LEFT JOIN p USING (county)
        ORDER BY c.county IS NULL, k.county COLLATE "C"
    """
    with engine.connect() as conn:
        frame = pd.read_sql(sa.text(sql), conn)
    counts = ["parcels", "level1_lines", "level2_lines"]
    areas = ["level1_mu", "level2_mu", "parcels_mu"]
    return frame.astype(
        {**{c: "int64" for c in counts}, **{c: "float64" for c in areas}, "county": object, "name": object}
    )


def read_ratings(engine: Engine | Connection) -> pd.DataFrame:
    """All ratings (parcel_no, holder_id, year, grade), by COPY (see ``read_parcel_columns``), ordered by year."""
    cols = ["parcel_no", "holder_id", "year", "grade"]
    return _copy_frame(engine, f"SELECT {', '.join(cols)} FROM ratings ORDER BY year", {}, cols)


def store_counts(engine: Engine) -> dict[str, int]:
    """How many current rows each table holds (for status lines)."""
    sql = """SELECT (SELECT count(*) FROM admin_areas) AS admin_areas,
                    (SELECT count(*) FROM block_lines WHERE valid_to IS NULL) AS block_lines,
                    (SELECT count(*) FROM parcels WHERE valid_to IS NULL) AS parcels,
                    (SELECT count(*) FROM ratings) AS ratings"""
    with engine.connect() as conn:
        return dict(conn.execute(sa.text(sql)).mappings().one())
