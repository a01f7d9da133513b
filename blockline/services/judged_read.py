"""Reading a stored judgement's findings back into the frame the rules returned (``blockline.services.judged``)."""

from __future__ import annotations

import io
from typing import Any

import pandas as pd
import pyarrow as pa
import sqlalchemy as sa
from pyarrow import csv
from sqlalchemy.engine import Engine

from blockline.services.judged_values import loads

__all__ = ["read_findings"]


def read_findings(
    engine: Engine, jid: int, kind: str, *, figures: bool = True, ords: tuple[int, int] | None = None
) -> pd.DataFrame:
    """The findings frame of ``kind`` of judgement ``jid``, with the columns, order and dtypes it was judged with.

    Without ``figures`` when ``figures`` is False; only the rows ``lo ≤ ord < hi`` of ``ords=(lo, hi)``. Read by
    ``COPY … TO STDOUT`` in CSV, parsed by pyarrow (as ``geo.queries`` reads parcels).
    """
    names = [
        "parcel_no",
        "category",
        "article",
        "detail",
        "detail_en",
        "since",
        "figures",
        "penalty_wan",
        "extra",
    ]
    types = {**{c: pa.string() for c in names}, "since": pa.date32(), "penalty_wan": pa.float64()}
    buf = io.BytesIO()
    with engine.connect() as conn:
        columns = conn.execute(
            sa.text("SELECT columns -> :k FROM judgements WHERE id = :i"), {"i": jid, "k": kind}
        ).scalar_one()
        raw = conn.connection.driver_connection
        assert raw is not None  # a checked-out connection always holds its driver connection
        with (
            raw.cursor() as cur,
            cur.copy(
                f"COPY (SELECT {', '.join(c if figures or c != 'figures' else 'NULL' for c in names)} "
                "FROM judged_findings WHERE judgement_id = %(i)s AND kind = %(k)s "
                + ("AND ord >= %(lo)s AND ord < %(hi)s " if ords else "")
                + "ORDER BY ord) TO STDOUT (FORMAT csv)",
                {"i": jid, "k": kind, "lo": ords[0] if ords else 0, "hi": ords[1] if ords else 0},
            ) as copy,
        ):
            for block in copy:
                buf.write(block)
    table = (
        csv.read_csv(
            pa.py_buffer(buf.getbuffer()),
            read_options=csv.ReadOptions(column_names=names),
            convert_options=csv.ConvertOptions(
                column_types=types,
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,
            ),
        )
        if buf.tell()
        else None
    )

    def values(c: str) -> Any:
        if table is None:
            return []
        if c == "since":
            return table.column(c).to_pandas(date_as_object=True).to_numpy(dtype=object)
        if c == "penalty_wan":
            return table.column(c).to_numpy(zero_copy_only=False)
        v = table.column(c).to_numpy(zero_copy_only=False)  # str and None, as objects
        return [None if x is None else loads(x) for x in v] if c in ("figures", "extra") else v

    data = {c: values(c) for c in names}
    extras = [{} if e is None else e for e in data.pop("extra")]
    out = {}
    kept = [(c, dtype) for c, dtype in columns if figures or c != "figures"]
    for c, dtype in kept:
        vals = data[c] if c in data else [e.get(c) for e in extras]
        out[c] = pd.Series(vals, dtype=object if dtype == "object" else dtype)
    return pd.DataFrame(out, columns=[c for c, _ in kept])
