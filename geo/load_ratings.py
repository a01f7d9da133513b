"""Loading 亩均论英雄 ratings (parcel_no or holder_id, year, grade) from CSV or XLSX."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from geo.auth import name_of
from geo.errors import InputError, Problem, ValidationError
from geo.io import read_table
from geo.load_common import (
    LoadResult,
    _copy_frame,
    _opt_text,
    finish_load,
    start_load,
)
from geo.store import transaction

_RATING_HEADERS = {
    "parcel_no": ("parcel_no", "宗地编号", "宗地代码", "不动产单元号"),
    "holder_id": ("holder_id", "统一社会信用代码", "社会信用代码", "信用代码"),
    "year": ("year", "年度", "年份", "评价年度"),
    "grade": (
        "grade",
        "rating",
        "等级",
        "评价等级",
        "亩均评价等级",
        "综合评价等级",
        "亩均论英雄等级",
        "类别",
    ),
}


def write_ratings(
    conn: Connection, ratings: pd.DataFrame, *, load_id: int | None, upsert: bool = True
) -> int:
    """Upsert ratings (columns parcel_no and/or holder_id, year, grade); the number written.

    The rows are copied (``COPY``) into a staging table and upserted by one statement; where the same
    subject and year come twice, the later row wins (as row-by-row upserts in order would have it).
    ``upsert=False`` inserts without looking for ratings to replace (about twice as fast): for a caller that
    knows there are none (the demo in a store without ratings; a clash would still fail on the unique index).
    """
    n = len(ratings)
    if n == 0:
        return 0

    def text(column: str) -> list[str | None]:
        return [_opt_text(v) for v in ratings[column]] if column in ratings.columns else [None] * n

    frame = pd.DataFrame(
        {
            "n": np.arange(n, dtype=np.int64),
            "parcel_no": text("parcel_no"),
            "holder_id": text("holder_id"),
            "year": ratings["year"].astype(np.int64).to_numpy(),
            "grade": ratings["grade"].astype(str).to_numpy(),
        }
    )
    conn.execute(
        sa.text("""CREATE TEMP TABLE _stage_ratings (n bigint, parcel_no text, holder_id text,
                            year int, grade char(1)) ON COMMIT DROP""")
    )
    _copy_frame(conn, frame, "_stage_ratings")
    once = not frame[["parcel_no", "holder_id", "year"]].fillna("").duplicated().any()
    conflict = (
        (
            "ON CONFLICT ((coalesce(parcel_no, '')), (coalesce(holder_id, '')), year) "
            "DO UPDATE SET grade = EXCLUDED.grade, load_id = EXCLUDED.load_id"
        )
        if upsert
        else ""
    )
    conn.execute(
        sa.text(f"""
        INSERT INTO ratings (parcel_no, holder_id, year, grade, load_id)
        SELECT {"" if once else "DISTINCT ON (coalesce(parcel_no, ''), coalesce(holder_id, ''), year)"}
               parcel_no, holder_id, year, grade, CAST(:l AS bigint)
        FROM _stage_ratings {"" if once else "ORDER BY coalesce(parcel_no, ''), coalesce(holder_id, ''), year, n DESC"}
        {conflict}"""),
        {"l": load_id},
    )
    conn.execute(sa.text("DROP TABLE _stage_ratings"))
    return n


def load_ratings(
    engine: Engine,
    path: Path | str,
    *,
    user: str,
    encoding: str | None = None,
    display_name: str | None = None,
    layer: str | None = None,
) -> LoadResult:
    """Load 亩均论英雄 ratings from CSV or XLSX: parcel_no or holder_id, year, grade (A/B/C/D).

    ``layer`` names the sheet of a workbook with several (as ``--layer`` names a GeoPackage's layer).
    """
    name = display_name or Path(path).name
    table = read_table(path, encoding=encoding, display_name=name, sheet=layer)
    lower = {str(c).strip().lower(): c for c in table.columns}
    found = {
        k: next((lower[h.lower()] for h in hs if h.lower() in lower), None)
        for k, hs in _RATING_HEADERS.items()
    }
    if (
        found["year"] is None
        or found["grade"] is None
        or (found["parcel_no"] is None and found["holder_id"] is None)
    ):
        raise InputError(
            "评价表须有 宗地编号 或 统一社会信用代码、年度、等级 三类列",
            "a ratings table needs parcel_no or holder_id, year and grade columns",
            file=name,
            fix_zh="现有列：" + "、".join(map(str, table.columns)),
            fix_en="columns found: " + ", ".join(map(str, table.columns)),
        )
    out = pd.DataFrame({k: table[c] for k, c in found.items() if c is not None})
    problems = []
    years, grades = [], []
    for pos, (y, g) in enumerate(zip(out["year"], out["grade"], strict=False)):
        try:
            year = int(float(str(y).strip().rstrip("年")))
            if not 1990 <= year <= 2100:
                raise ValueError
        except ValueError:
            problems.append(Problem(pos + 2, None, f"年度“{y}”无效", f"year '{y}' is not valid"))
            year = 0
        grade = str(g).strip().upper().rstrip("类级")
        if grade not in ("A", "B", "C", "D"):
            problems.append(Problem(pos + 2, None, f"等级“{g}”不是 A/B/C/D", f"grade '{g}' is not A/B/C/D"))
        years.append(year)
        grades.append(grade)
    out["year"], out["grade"] = years, grades
    for key in ("parcel_no", "holder_id"):
        if key in out.columns:
            out[key] = [_opt_text(v) for v in out[key]]
    subject = pd.Series(False, index=out.index)
    for key in ("parcel_no", "holder_id"):
        if key in out.columns:
            subject |= out[key].notna()
    for row in np.flatnonzero(~subject.to_numpy()):
        problems.append(
            Problem(int(row) + 2, None, "既无宗地编号也无信用代码", "neither parcel number nor holder id")
        )
    if problems:
        raise ValidationError(problems, file=name)
    result = LoadResult("ratings", name, 0)
    with transaction(engine) as conn:
        result.load_id = start_load(conn, kind="ratings", source=name, user=user)
        user = name_of(user)  # the writes below record the name
        result.inserted = write_ratings(conn, out, load_id=result.load_id)
        finish_load(conn, result.load_id, result)
    return result
