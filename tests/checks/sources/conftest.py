"""Recorded real responses live in ../shared/fixtures/registries (third-party data, never
copied into the project), or wherever WISHLIST_REGISTRY_FIXTURES names (a git worktree
that is not beside ../shared). A clone without them skips those tests with a reason,
except under CI (CI=true), where a missing folder is a failure."""

import os
from pathlib import Path

import pytest

REGISTRIES = Path(
    os.environ.get("WISHLIST_REGISTRY_FIXTURES", "").strip()
    or Path(__file__).resolve().parents[3].parent / "shared" / "fixtures" / "registries"
)


@pytest.fixture
def recorded():
    """Return a function that reads a recorded response body as bytes."""

    def read(relative: str) -> bytes:
        path = REGISTRIES / relative
        if not path.exists():
            message = f"recorded response {path} is missing (../shared not beside this clone)"
            if os.environ.get("CI", "").lower() == "true":
                pytest.fail(message)
            pytest.skip(message)
        return path.read_bytes()

    return read
