"""Fixtures of the services' tests."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from blockline.demo import load_demo


@pytest.fixture
def demo(engine: sa.Engine) -> sa.Engine:
    """The 800-parcel demo city (seed 3) on an empty store, with no judgement or mark left from before."""
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM judgements"))
        conn.execute(sa.text("DELETE FROM parcel_marks"))
    load_demo(engine, user="test", n_parcels=800, seed=3)
    return engine
