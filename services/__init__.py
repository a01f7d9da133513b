"""Services: what the CLI, the pages and the server ask for, between them and the engine (``geo``, ``zoning``).

``services.judged``
    a city judged once per data version, date and profile (idle, lifecycle, low-efficiency land), kept in
    PostGIS and read back by every caller instead of judged again.
"""
