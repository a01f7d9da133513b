"""Spatial foundations: files in and out, CRSs, areas, validation, the PostGIS store, settings. No policy."""
