"""Services: what the CLI, the pages and the server ask for, between them and the engine (``geo``, ``zoning``).

``blockline.services.judged``
    a city judged once per data version, date and profile (idle, lifecycle, low-efficiency land, the map's
    marks), kept in PostGIS and read back by every caller instead of judged again; ``judge_today`` is what
    the loads and the server's warm-up call.
``blockline.services.marks``
    the name of the marks of a judgement for the tiles (``ensure_marks``).
``blockline.services.reports``
    the pages' lists: idle findings and parcel facts, candidate zones.
``blockline.services.zones``
    candidate 连片开发 zones from the judgement, clustered and described in PostGIS.
"""
