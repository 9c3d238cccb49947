"""The Makefile's newcomer start, read with `make -n` (nothing is run): the links it
prints follow HOST and PORT, demo passwords are reset only when asked, and the install
tries a pinned uv before falling back to pip."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def dry_run(target: str, tmp_path: Path, **variables: str) -> str:
    # A virtualenv that does not exist, so every step to the target is listed.
    args = [f"{name}={value}" for name, value in {"VENV": str(tmp_path), **variables}.items()]
    result = subprocess.run(
        ["make", "-n", "-C", str(ROOT), target, *args],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    return result.stdout


def test_make_run_prints_and_serves_the_host_and_port_it_is_given(tmp_path):
    out = dry_run("run", tmp_path / "venv", HOST="127.0.0.2", PORT="8123")

    assert "create_demo_users --base-url http://127.0.0.2:8123" in out
    assert "Serving Wishlist on http://127.0.0.2:8123/" in out
    assert "runserver 127.0.0.2:8123" in out
    assert "8000" not in out


def test_a_server_on_every_interface_is_linked_on_loopback(tmp_path):
    out = dry_run("run", tmp_path / "venv", HOST="0.0.0.0", PORT="9000")

    assert "--base-url http://127.0.0.1:9000" in out
    assert "runserver 0.0.0.0:9000" in out


@pytest.mark.parametrize(("value", "reset"), [("", False), ("0", False), ("1", True)])
def test_demo_passwords_are_reset_only_when_asked(tmp_path, value, reset):
    out = dry_run("demo", tmp_path / "venv", RESET_DEMO_PASSWORDS=value)

    assert ("--reset" in out) is reset


def test_install_puts_a_pinned_uv_in_the_virtualenv_and_falls_back_to_pip(tmp_path):
    venv = tmp_path / "venv"
    out = dry_run("install", venv)

    uv = out.index(f"{venv}/bin/pip install --quiet uv==")
    uv_install = out.index(f"{venv}/bin/uv pip install --quiet --compile-bytecode")
    fallback = out.index(f"{venv}/bin/pip install --quiet -r requirements-dev.txt")
    assert out.index(f"-m venv {venv}") < uv < uv_install < fallback
    assert f"--python {venv}/bin/python" in out[uv_install:fallback]
    assert "requirements-dev.txt" in out[uv_install:fallback]
