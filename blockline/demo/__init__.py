"""The demo city: a deterministic synthetic industrial city inside real county boundaries, and its load.

``generate_city`` makes one city, ``generate_region`` a province one city at a time, and ``load_demo`` writes
a region into the store in one transaction (the command ``blockline demo``). The demo encodes policy
situations (idle land, breaches of contract, low-efficiency clusters), which is why it lives with the
application and not in ``geo``: see :mod:`blockline.demo.city` for how a city is made.
"""

from blockline.demo.city import DemoCity, generate_city
from blockline.demo.region import generate_region
from blockline.demo.store import (
    BUNDLED_BOUNDARIES,
    DEMO_POLICY,
    DEMO_REGIONS,
    PROVINCE_BOUNDARIES,
    load_demo,
)

__all__ = [
    "BUNDLED_BOUNDARIES",
    "DEMO_POLICY",
    "DEMO_REGIONS",
    "PROVINCE_BOUNDARIES",
    "DemoCity",
    "generate_city",
    "generate_region",
    "load_demo",
]
