"""Archival survey light curves for TOM Toolkit sites: one broker per public archive."""

__version__ = "0.2.0"
