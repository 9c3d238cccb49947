"""The name ../shared/yield/score.py asks for a checkout's sources by (`cases.sources.
get_sources`); the sources themselves live in cases.checks.sources."""

from cases.checks.sources import get_sources

__all__ = ["get_sources"]
