"""The columnar read (COPY … CSV parsed by pyarrow) gives the very frame the row-by-row read gave.

The reference is the read of geo.queries before the columnar path: ``pd.read_sql`` of the same SELECT
through SQLAlchemy and psycopg, dates turned into ``datetime.date`` objects. Compared on the demo city, every
column and dtype, then again after edits that make the edge cases: an empty string beside a NULL, a NULL
``is_low_efficiency`` (the column becomes objects), a column with a single value, nested JSON in ``extra``.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
import sqlalchemy as sa
from pandas.testing import assert_frame_equal

from blockline.demo import load_demo
from geo.queries import PARCEL_COLUMNS, RULE_COLUMNS, read_parcel_columns, read_parcels, read_ratings


def _rows_read(
    engine: sa.Engine, columns: list[str], where: str = "valid_to IS NULL", params: dict | None = None
) -> pd.DataFrame:
    """The row-by-row read of geo.queries before the columnar path (pd.read_sql, dates as date objects)."""
    with engine.connect() as conn:
        frame = pd.read_sql(
            sa.text(f"SELECT {', '.join(columns)} FROM parcels WHERE {where} ORDER BY parcel_no"),
            conn,
            params=params or {},
        )
    for c in columns:
        if c.endswith("_on") or c == "operating_since":
            frame[c] = pd.to_datetime(frame[c]).dt.date.astype(object).where(frame[c].notna(), None)
    return frame


@pytest.fixture
def demo(engine: sa.Engine) -> sa.Engine:
    load_demo(engine, user="test", n_parcels=600, seed=5)
    return engine


def test_every_column_as_the_rows_gave_them(demo: sa.Engine) -> None:
    everything = [*PARCEL_COLUMNS, "extra", "county_shares"]
    fast = read_parcels(demo, geometry=False)
    assert len(fast) == 600
    assert_frame_equal(fast, _rows_read(demo, everything), check_exact=True)
    assert_frame_equal(read_parcel_columns(demo), _rows_read(demo, RULE_COLUMNS), check_exact=True)


def test_edge_cases_as_the_rows_gave_them(demo: sa.Engine) -> None:
    with demo.begin() as conn:
        first, second, third = (
            conn.execute(
                sa.text("SELECT parcel_no FROM parcels WHERE valid_to IS NULL ORDER BY parcel_no LIMIT 3")
            )
            .scalars()
            .all()
        )
        conn.execute(
            sa.text(
                "UPDATE parcels SET holder_id = '', holder = NULL, is_low_efficiency = NULL, "
                "source_area_mu = 15.000000000000002, tax = -0.1, extra = CAST(:x AS jsonb) "
                "WHERE parcel_no = :n"
            ),
            {"n": first, "x": '{"备注": [1, 2.5, "x", null], "k": {"a": true}}'},
        )
        conn.execute(
            sa.text(
                "UPDATE parcels SET holder_id = NULL, land_use = '\"1001\"', started_on = NULL "
                "WHERE parcel_no = :n"
            ),
            {"n": second},
        )
        conn.execute(sa.text("UPDATE parcels SET holder = 'a,b\nc' WHERE parcel_no = :n"), {"n": third})
    fast = read_parcels(demo, geometry=False)
    rows = _rows_read(demo, [*PARCEL_COLUMNS, "extra", "county_shares"])
    assert_frame_equal(fast, rows, check_exact=True)
    assert str(fast["is_low_efficiency"].dtype) == "object" and fast.loc[0, "is_low_efficiency"] is None
    assert fast.loc[0, "holder_id"] == "" and pd.isna(fast.loc[1, "holder_id"])
    assert fast.loc[0, "extra"] == {"备注": [1, 2.5, "x", None], "k": {"a": True}}
    assert fast.loc[1, "land_use"] == '"1001"' and fast.loc[2, "holder"] == "a,b\nc"


def test_filters_and_no_rows(demo: sa.Engine) -> None:
    with demo.connect() as conn:
        some = (
            conn.execute(sa.text("SELECT parcel_no FROM parcels ORDER BY parcel_no LIMIT 5")).scalars().all()
        )
        county = conn.execute(
            sa.text("SELECT county_code FROM parcels ORDER BY parcel_no LIMIT 1")
        ).scalar_one()
    cols = ["parcel_no", "county_code", "delivered_on", "area_mu"]
    assert_frame_equal(
        read_parcel_columns(demo, cols, parcel_nos=some),
        _rows_read(demo, cols, "valid_to IS NULL AND parcel_no = ANY(:n)", {"n": some}),
    )
    assert_frame_equal(
        read_parcel_columns(demo, cols, county=county),
        _rows_read(demo, cols, "valid_to IS NULL AND county_code = :c", {"c": county}),
    )
    long_ago = dt.date(1990, 1, 1)
    assert len(read_parcel_columns(demo, cols, as_of=long_ago)) == 0
    assert len(read_parcel_columns(demo, cols, parcel_nos=["no such parcel"])) == 0
    with pytest.raises(ValueError, match="not a parcel column: geom"):
        read_parcel_columns(demo, ["parcel_no", "geom"])


def test_ratings_as_the_rows_gave_them(demo: sa.Engine) -> None:
    with demo.connect() as conn:
        rows = pd.read_sql(
            sa.text("SELECT parcel_no, holder_id, year, grade FROM ratings ORDER BY year, id"), conn
        )
        ids = pd.read_sql(sa.text("SELECT id FROM ratings ORDER BY year, id"), conn)
    fast = read_ratings(demo)
    assert len(fast) == len(rows) > 0
    # the same rows in the same dtypes (the order within a year is the server's: compare sorted)
    key = ["year", "parcel_no", "holder_id", "grade"]
    assert_frame_equal(
        fast.sort_values(key, na_position="first").reset_index(drop=True),
        rows.sort_values(key, na_position="first").reset_index(drop=True),
    )
    assert len(ids) == len(fast)
