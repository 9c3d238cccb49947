"""Settings come from the environment and fail early with a clear message."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "k" * 20 + "Zq8#vL2!xR9@pT4$wN7%mB1^cF6&hJ3*sD5(",
    "ALLOWED_HOSTS": "wishlist.example.org",
}


def manage(*args: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    base = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS"}
    }
    base["WISHLIST_DATA_DIR"] = str(tmp_path)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_in_production(tmp_path):
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION, tmp_path=tmp_path
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_it_refuses_to_start_without_a_secret_key_when_debug_is_off(tmp_path):
    env = {**PRODUCTION, "SECRET_KEY": ""}
    result = manage("check", env=env, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_it_reads_the_secret_key_from_a_file(tmp_path):
    key_file = tmp_path / "key"
    key_file.write_text(PRODUCTION["SECRET_KEY"])
    env = {**PRODUCTION, "SECRET_KEY": "", "SECRET_KEY_FILE": str(key_file)}
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr


def test_it_names_a_bad_database_url(tmp_path):
    result = manage("check", env={"DATABASE_URL": "mysql://x@y/z"}, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "DATABASE_URL must start with" in result.stderr


def test_it_names_a_bad_boolean(tmp_path):
    result = manage("check", env={"DEBUG": "maybe"}, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "DEBUG='maybe' is not a boolean" in result.stderr


def test_it_names_a_bad_redis_url(tmp_path):
    result = manage("check", env={"REDIS_URL": "amqp://guest@localhost//"}, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "REDIS_URL must start with" in result.stderr


def test_it_requires_allowed_hosts_in_production(tmp_path):
    env = {**PRODUCTION, "ALLOWED_HOSTS": ""}
    result = manage("check", env=env, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS must be set" in result.stderr


def test_embedded_default_runs_on_sqlite_with_nothing_set(tmp_path):
    result = manage("migrate", "--noinput", env={}, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "db.sqlite3").exists()
