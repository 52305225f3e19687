"""Archival survey light curves for TOM Toolkit sites: one broker per public archive."""

__version__ = "0.1.0"
