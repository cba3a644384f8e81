"""Layer kinds, the workspace file (a GeoPackage), and GIS importers.

Plain Python: no Qt here, so scripts, the CLI and tests can use it.
"""
