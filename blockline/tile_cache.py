"""The server's memory of map tiles: versioned tiles by their URL and their user's rights, least recently used out.

Up to ``BLOCKLINE_TILE_CACHE_MB`` (default 128; 0 turns the cache off). A tile of a new data version has a new
key, so the cache never serves a tile of older data; the key holds what its user may see (``rights_key``), so a
tile cut for one user never reaches another with fewer rights. The server's routes and its warm-up (which cuts
the city view into it) both use it.

Examples
--------
>>> rights_key(None, True), rights_key(frozenset({"330304", "330302"}), False)
('all', '330302,330304;contracts=0')
>>> cache_key("/tiles/all/8/213/105.pbf", [("v", "x"), ("county", "330302")])
"/tiles/all/8/213/105.pbf?[('county', '330302'), ('v', 'x')]#all"
"""

from __future__ import annotations

import threading

from cachetools import LRUCache

from geo.settings import get_settings

__all__ = [
    "FULL_RIGHTS",
    "TILE_CACHE",
    "cache_key",
    "cache_size",
    "cached",
    "keep",
    "new_tile_cache",
    "rights_key",
]

#: the rights of a user who may see everything (setup mode, or no county limit and contract figures allowed)
FULL_RIGHTS = "all"


def new_tile_cache() -> LRUCache[str, bytes] | None:
    """An empty tile cache of the settings' budget (``Settings.tile_cache_mb``), or None when it is 0."""
    budget = get_settings().tile_cache_mb * 2**20
    return LRUCache(maxsize=budget, getsizeof=lambda body: len(body) + 200) if budget > 0 else None


#: versioned tiles by their whole URL (path and query), within a byte budget
TILE_CACHE = new_tile_cache()
_CACHE_LOCK = threading.Lock()  # the event loop and the warm-up thread both use the cache


def rights_key(counties: frozenset[str] | None, contracts: bool) -> str:
    """What a user may see in a tile, as a short text: ``FULL_RIGHTS``, or their counties and contract flag."""
    if counties is None and contracts:
        return FULL_RIGHTS
    return f"{','.join(sorted(counties)) if counties is not None else '*'};contracts={int(contracts)}"


def cache_key(path: str, query: list[tuple[str, str]], rights: str = FULL_RIGHTS) -> str:
    """The tile cache's key of a request: its path, its query parameters in any order and its user's rights.

    The rights are ``rights_key``'s: one user's tile is never another's with fewer rights.
    """
    return f"{path}?{sorted(query)}#{rights}"


def cached(key: str) -> bytes | None:
    """The tile kept under ``key``, if any."""
    if TILE_CACHE is None:
        return None
    with _CACHE_LOCK:
        return TILE_CACHE.get(key)


def keep(key: str, body: bytes) -> None:
    """Keep a tile under ``key`` (unless the cache is off or the tile is larger than the whole budget)."""
    if TILE_CACHE is not None and len(body) < TILE_CACHE.maxsize:
        with _CACHE_LOCK:
            TILE_CACHE[key] = body


def cache_size() -> tuple[int, int]:
    """(tiles, bytes) kept now."""
    with _CACHE_LOCK:
        if TILE_CACHE is None:
            return 0, 0
        return len(TILE_CACHE), int(TILE_CACHE.currsize)
