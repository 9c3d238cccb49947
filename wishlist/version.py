"""The code version the exports and samples record: the release below, and the commit
when the code runs from a git checkout (a fresh clone, the embedded default). Read once
per process; no network, nothing beyond the local git binary, which may be absent."""

import functools
import subprocess
from pathlib import Path

RELEASE = "0.13"
_ROOT = Path(__file__).resolve().parent.parent


@functools.cache
def code_version() -> str:
    """ "0.13+<commit>" in a git checkout, "0.13" elsewhere."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(_ROOT), "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return RELEASE
    return f"{RELEASE}+{commit}" if commit else RELEASE
