"""Which city's text judges a county: under the deployment's profile, each county by the text in force there.

``judge_city`` judges the parcels of a county that another city's profile governs (``zoning.policy.
governing_profiles``: 义乌市 by ``yiwu`` in a Wenzhou deployment) by that profile; a profile named otherwise
than the deployment's is a what-if, and judges every parcel by itself.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from geo.settings import get_settings
from zoning.policy import Profile, get_profile, governing_profiles

__all__ = ["county_profiles", "governing_profile"]


def _deployed(profile: Profile) -> bool:
    """Whether ``profile`` is the deployment's (``BLOCKLINE_POLICY``): the one that judges by jurisdiction."""
    return profile.name == get_profile(get_settings().policy).name


def governing_profile(profile: Profile, county: str | None) -> Profile:
    """The profile a parcel of ``county`` is judged by under ``profile``, as ``judge_city`` judges it.

    For one parcel's papers (its notice, its contract letter), so that they cite the text its findings cite.
    """
    if not county or not _deployed(profile):
        return profile
    return governing_profiles(profile, [county]).get(county, profile)


def county_profiles(engine: Engine, profile: Profile) -> dict[str, Profile]:
    """The counties of the current parcels that another city's text governs (``governing_profiles``).

    Only under the deployment's profile (``BLOCKLINE_POLICY``), which judges each county by the text in force
    there; a profile named otherwise (``--policy yiwu`` in a Wenzhou deployment) is a what-if, and judges every
    parcel by itself.
    """
    if not _deployed(profile):
        return {}
    with engine.connect() as conn:
        counties = (
            conn.execute(
                sa.text("""SELECT a.code FROM admin_areas a WHERE a.level = 'county' AND EXISTS (
                               SELECT 1 FROM parcels p WHERE p.county_code = a.code AND p.valid_to IS NULL)""")
            )
            .scalars()
            .all()
        )
    return governing_profiles(profile, counties)
