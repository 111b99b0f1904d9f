"""The fault fixtures, from injection.py (where the tests also import the checks from)."""

from tests.faults.injection import news_site, sqlite_fault

__all__ = ["news_site", "sqlite_fault"]
