"""The documents of ``blockline report`` on the demo city, and a PNG of their first and last (map) page for the README.

Usage: ``.venv/bin/blockline demo`` first, then ``.venv/bin/python docs/papers.py [--as-of 2026-11-01]``. The PDFs
are made in a temporary folder; ``docs/papers/<paper>-1.png`` (the cover and figures) and ``<paper>-map.png``
(the page with the map) are, rendered by poppler's ``pdftoppm``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from shapely import affinity, box  # noqa: E402

from blockline.reports.document import write_document  # noqa: E402
from blockline.reports.gather import (  # noqa: E402
    balance_check_document,
    contract_document,
    cover_for,
    idle_document,
    zone_document,
)
from geo.queries import read_blocklines  # noqa: E402
from geo.store import open_store  # noqa: E402
from zoning.policy import get_profile  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "papers"


def _blockline(*args: str) -> dict:
    out = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "blockline"), *args, "--format", "json"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out)


def _pages(pdf: Path, name: str) -> None:
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    for page, suffix in ((1, "1"), (pages, "map")):
        subprocess.run(
            [
                "pdftoppm",
                "-r",
                "70",
                "-png",
                "-singlefile",
                "-f",
                str(page),
                "-l",
                str(page),
                str(pdf),
                str(OUT / f"{name}-{suffix}"),
            ],
            check=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--as-of", default="2026-11-01")
    args = parser.parse_args()
    as_of = dt.date.fromisoformat(args.as_of)
    engine, profile = open_store(), get_profile("wenzhou-2020")
    cover = cover_for(prepared_by="规划科", authority="温州市自然资源和规划局", date=as_of)
    OUT.mkdir(parents=True, exist_ok=True)
    papers = {}
    line = read_blocklines(engine, level=1).iloc[0]
    x0, y0, _, _ = line.geometry.bounds
    removal = line.geometry.intersection(box(x0, y0, x0 + 300, y0 + 200))
    addition = affinity.translate(box(x0, y0, x0 + 260, y0 + 200), xoff=-400)
    papers["balance"] = balance_check_document(
        engine, county=line.county_code, removal=[removal], addition=[addition], profile=profile, cover=cover
    )
    zones = _blockline("zones", "detect", "--as-of", args.as_of, "--save")["zones"]
    papers["zone"] = zone_document(
        engine, zone=zones[0]["zone_id"], profile=profile, as_of=as_of, cover=cover
    )
    idle = _blockline("idle", "--as-of", args.as_of)["parcels"]
    no = next(p["parcel_no"] for p in idle if "idle" in p["categories"])
    papers["idle-notice"] = idle_document(
        engine, parcel_no=no, kind="notice", profile=profile, as_of=as_of, cover=cover, price_wan=1200.0
    )
    papers["idle-decision"] = idle_document(
        engine, parcel_no=no, kind="decision", profile=profile, as_of=as_of, cover=cover, price_wan=1200.0
    )
    life = _blockline("lifecycle", "--as-of", args.as_of)["parcels"]
    no = next(p["parcel_no"] for p in life if "tax_shortfall" in p["categories"])
    papers["contract"] = contract_document(engine, parcel_no=no, profile=profile, as_of=as_of, cover=cover)
    with tempfile.TemporaryDirectory() as tmp:
        for name, doc in papers.items():
            _pages(write_document(doc, Path(tmp) / f"{name}.pdf"), name)
            print(f"docs/papers/{name}-1.png, docs/papers/{name}-map.png")


if __name__ == "__main__":
    main()
