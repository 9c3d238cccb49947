"""Fixtures of the follow-up checks' tests."""

from contextlib import ExitStack

import pytest

from cases.checks import sources


@pytest.fixture
def use_sources():
    """Return a function that makes the given sources the only registered ones, by name,
    until the test ends: `use_sources(FakeSource())`. Outside tests/checks, use the
    context manager it wraps, `cases.checks.sources.override`."""
    with ExitStack() as stack:
        yield lambda *chosen: stack.enter_context(sources.override(*chosen))
