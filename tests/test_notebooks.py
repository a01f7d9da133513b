"""The notebooks in notebooks/ run top to bottom on the demo city, so they never rot."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
import sqlalchemy as sa
from nbclient import NotebookClient

from blockline.demo import load_demo
from tests.conftest import empty_store

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="module")
def demo_city(_engine: sa.Engine, owner_engine: sa.Engine) -> sa.Engine:
    empty_store(owner_engine)  # as the schema's owner: the app's role may not TRUNCATE
    load_demo(_engine, user="test", n_parcels=1500, seed=2020)
    return _engine


def test_there_are_notebooks() -> None:
    assert len(NOTEBOOKS) == 3


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path: Path, demo_city: sa.Engine) -> None:
    book = nbformat.read(path, as_version=4)
    NotebookClient(
        book, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    errors = [
        o
        for c in book.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.output_type == "error"
    ]
    assert not errors
