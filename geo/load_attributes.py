"""Loading a 台账 (a table without shapes) joined to the current parcels by parcel number."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from geo.auth import name_of
from geo.errors import InputError, Problem, ValidationError
from geo.fields import coerce_parcel_columns, map_columns, parse_field_map
from geo.fixes import fix
from geo.io import ReadReport, read_table
from geo.load_common import (
    LoadResult,
    Progress,
    _copy_frame,
    _extra_json,
    _noop,
    finish_load,
    start_load,
)
from geo.store import transaction
from geo.tiles import refresh_parcel_cells

#: columns of a 台账 that would hold a shape: never read when joining (the shapes are not touched)
_SHAPE_COLUMNS = ("wkt", "geometry", "geom", "the_geom", "shape", "几何", "图形")
#: parcel columns a 台账 never changes: the shape, and what follows from it or records the version
_NOT_JOINED = (
    "id",
    "parcel_no",
    "county_code",
    "county_shares",
    "geom",
    "area_mu",
    "valid_from",
    "valid_to",
    "load_id",
    "created_by",
)


@dataclass(frozen=True)
class Attributes:
    """A 台账 ready to join: parcel_no, the canonical columns it updates, and ``extra`` (its other columns)."""

    table: pd.DataFrame
    columns: list[str]
    notes: list[str]


def _join_field_map(
    columns: Sequence[str], join: str, field_map: dict[str, str], *, file: str
) -> dict[str, str]:
    """``field_map`` with the ``--join`` key: ``parcel_no`` (by its recognised headers) or a column of the file."""
    if join == "parcel_no":
        return field_map
    if join in columns:
        return {**field_map, join: "parcel_no"}
    raise InputError(
        f"--join “{join}” 既不是 parcel_no 也不是文件中的列",
        f"--join '{join}' is neither parcel_no nor a column of the file",
        file=file,
        **fix("join", columns=list(map(str, columns))),
    )


def prepare_attributes(
    table: pd.DataFrame, *, join: str = "parcel_no", field_map: dict[str, str] | None = None, file: str = ""
) -> Attributes:
    """Type a 台账 (a table without shapes) for joining to the current parcels by number.

    Recognised headers are typed as in a parcel file; unrecognised columns go to ``extra``; a shape column,
    Esri's geometry fields and the county (which follows the shape) are left out, with a note. Rows are
    numbered as the spreadsheet numbers them (the header is row 1). Raises ``ValidationError`` listing every
    value that cannot be used.
    """
    columns = [str(c) for c in table.columns]
    notes: list[str] = []
    shape_cols = [c for c in columns if c.strip().lower() in _SHAPE_COLUMNS]
    fmap = _join_field_map(columns, join, dict(field_map or {}), file=file)
    mapping = map_columns([c for c in columns if c not in shape_cols], field_map=fmap)
    skipped = shape_cols + mapping.geometry_fields
    if skipped:
        notes.append(
            "按编号连接不改变图形，未读取列 " + "、".join(skipped) + " / joining by number never changes a "
            "shape: columns " + ", ".join(skipped) + " were not read"
        )
    if "parcel_no" not in mapping.rename.values():
        raise InputError(
            "找不到宗地编号字段（宗地编号/宗地代码/不动产单元号）",
            "no parcel number field (宗地编号/宗地代码/不动产单元号)",
            file=file,
            **fix("join_column", columns=columns),
        )
    renamed = table.rename(columns=mapping.rename)
    labels = [f"宗地编号={v}" for v in renamed["parcel_no"].astype(str)]
    typed, value_problems = coerce_parcel_columns(renamed, labels=labels)
    problems = [
        Problem(p.row + 1 if p.row else None, p.feature, p.zh, p.en)
        for p in mapping.problems + value_problems
    ]
    nos = typed["parcel_no"]
    for pos in np.flatnonzero(nos.isna().to_numpy()):
        problems.append(Problem(int(pos) + 2, None, "宗地编号为空", "the parcel number is empty"))
    for pos in np.flatnonzero((nos.duplicated(keep=False) & nos.notna()).to_numpy()):
        problems.append(
            Problem(
                int(pos) + 2, labels[pos], "宗地编号在文件中重复", "the parcel number appears more than once"
            )
        )
    if "lease_years" in typed.columns:
        for pos in np.flatnonzero((typed["lease_years"] <= 0).to_numpy()):
            years = typed["lease_years"].iloc[pos]
            problems.append(
                Problem(
                    int(pos) + 2,
                    labels[pos],
                    f"出让年限 {years:g} 年须大于 0",
                    f"field lease_years: {years:g} years is not a lease (it must be more than 0)",
                )
            )
    if problems:
        problems.sort(key=lambda p: p.row or 0)
        raise ValidationError(problems, file=file)
    if "county_code" in typed.columns:
        notes.append(
            "行政区代码随图形确定，台账中的行政区代码未采用 / the county follows the shape: the table's county "
            "codes were not used"
        )
    updated = [c for c in typed.columns if c not in _NOT_JOINED]
    extra_cols = [c for c in mapping.unknown if c in table.columns]
    if not updated and not extra_cols:
        raise InputError(
            "台账中除宗地编号外没有可更新的列",
            "the table has no column to update besides the parcel number",
            file=file,
            fix_zh="现有列：" + "、".join(columns),
            fix_en="columns: " + ", ".join(columns),
        )
    out = typed[["parcel_no", *updated]].copy()
    out["extra"] = _extra_json(table[extra_cols]) if extra_cols else "{}"
    return Attributes(out.reset_index(drop=True), updated, notes)


def write_attributes(
    conn: Connection, attributes: Attributes, *, load_id: int | None, user: str, progress: Progress = _noop
) -> tuple[int, int, list[str]]:
    """Join a 台账 to the current parcels by number: (new versions, unchanged, numbers not found).

    Each current parcel whose values change gets a new version (the old one closed with ``valid_to``), its
    shape, county and area copied unchanged; a blank cell keeps the current value; ``extra`` gains the
    table's other columns. A parcel the table does not change gets no new version.
    """
    cols = attributes.columns
    conn.execute(
        sa.text(f"""CREATE TEMP TABLE _stage_attrs ON COMMIT DROP AS
        SELECT parcel_no{"".join(", " + c for c in cols)}, extra FROM parcels WITH NO DATA""")
    )
    _copy_frame(conn, attributes.table[["parcel_no", *cols, "extra"]], "_stage_attrs", progress)
    not_found = list(
        conn.execute(
            sa.text("""
        SELECT s.parcel_no FROM _stage_attrs s WHERE NOT EXISTS (
            SELECT 1 FROM parcels p WHERE p.valid_to IS NULL AND p.parcel_no = s.parcel_no) ORDER BY 1""")
        ).scalars()
    )
    every = [
        c
        for c in conn.execute(
            sa.text("""
        SELECT column_name FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = 'parcels' ORDER BY ordinal_position""")
        ).scalars()
        if c not in ("id", "valid_from", "valid_to", "load_id", "created_by")
    ]
    values = {
        c: (f"coalesce(s.{c}, p.{c})" if c in cols else "p.extra || s.extra" if c == "extra" else f"p.{c}")
        for c in every
    }
    changed = " OR ".join(f"{values[c]} IS DISTINCT FROM p.{c}" for c in [*cols, "extra"])
    matched = conn.execute(
        sa.text("""SELECT count(*) FROM parcels p JOIN _stage_attrs s USING (parcel_no)
                                      WHERE p.valid_to IS NULL""")
    ).scalar_one()
    conn.execute(
        sa.text(f"""CREATE TEMP TABLE _new_versions ON COMMIT DROP AS
        SELECT p.id AS old_id, {", ".join(f"{v} AS {c}" for c, v in values.items())}
        FROM parcels p JOIN _stage_attrs s ON s.parcel_no = p.parcel_no
        WHERE p.valid_to IS NULL AND ({changed})""")
    )
    conn.execute(
        sa.text("UPDATE parcels SET valid_to = now() WHERE id IN (SELECT old_id FROM _new_versions)")
    )
    created = conn.execute(
        sa.text(f"""
        INSERT INTO parcels ({", ".join(every)}, load_id, created_by)
        SELECT {", ".join(every)}, :load, :user FROM _new_versions"""),
        {"load": load_id, "user": user},
    ).rowcount
    conn.execute(sa.text("DROP TABLE _new_versions; DROP TABLE _stage_attrs"))
    if created:
        refresh_parcel_cells(conn)  # the map's squares count low-efficiency land, which a 台账 may change
    return created, matched - created, not_found


def load_parcel_attributes(
    engine: Engine,
    path: Path | str,
    *,
    user: str,
    join: str = "parcel_no",
    encoding: str | None = None,
    field_map: Sequence[str] | dict[str, str] = (),
    display_name: str | None = None,
    layer: str | None = None,
    progress: Progress = _noop,
) -> LoadResult:
    """Update the attributes of current parcels from a 台账 (CSV/XLSX, no shapes) keyed by parcel number.

    The whole table is checked first: any value that cannot be used refuses the file, nothing written. Then,
    in one transaction, each parcel it changes gets a new version with the same shape (``write_attributes``).
    Numbers that match no current parcel are listed in ``LoadResult.not_found`` (and the warnings).
    """
    name = display_name or Path(path).name
    fmap = dict(field_map) if isinstance(field_map, dict) else parse_field_map(field_map)
    table = read_table(path, encoding=encoding, display_name=name, sheet=layer)
    attributes = prepare_attributes(table, join=join, field_map=fmap, file=name)
    result = LoadResult(
        "parcels",
        name,
        0,
        join=join,
        read=ReadReport(file=name, layer=layer, features=len(table), notes=attributes.notes),
    )
    with transaction(engine) as conn:
        result.load_id = start_load(conn, kind="parcels", source=name, user=user, report={"join": join})
        user = name_of(user)  # the writes below record the name
        result.updated, result.unchanged, result.not_found = write_attributes(
            conn, attributes, load_id=result.load_id, user=user, progress=progress
        )
        if result.not_found:
            shown = result.not_found[:50]
            more = len(result.not_found) - len(shown)
            result.warnings.append(
                f"{len(result.not_found)} 个宗地编号没有对应的现有宗地："
                + "、".join(shown)
                + (f" 等（另 {more} 个）" if more else "")
                + f" / {len(result.not_found)} parcel numbers match no current parcel: "
                + ", ".join(shown)
                + (f" (and {more} more)" if more else "")
            )
        finish_load(conn, result.load_id, result)
    return result
