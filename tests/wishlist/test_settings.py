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
        # DJANGO_SETTINGS_MODULE too: the suite's own (tests/settings.py) forces DEBUG on.
        if key
        not in {
            "DATABASE_URL",
            "REDIS_URL",
            "SECRET_KEY",
            "DEBUG",
            "ALLOWED_HOSTS",
            "DJANGO_SETTINGS_MODULE",
        }
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
    result = manage("check", env={"DEBUG": "1", "DATABASE_URL": "mysql://x@y/z"}, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "DATABASE_URL must start with" in result.stderr


def test_it_names_a_bad_boolean(tmp_path):
    result = manage("check", env={"DEBUG": "maybe"}, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "DEBUG='maybe' is not a boolean" in result.stderr


def test_it_names_a_bad_redis_url(tmp_path):
    result = manage(
        "check", env={"DEBUG": "1", "REDIS_URL": "amqp://guest@localhost//"}, tmp_path=tmp_path
    )
    assert result.returncode != 0
    assert "REDIS_URL must start with" in result.stderr


def test_it_requires_allowed_hosts_in_production(tmp_path):
    env = {**PRODUCTION, "ALLOWED_HOSTS": ""}
    result = manage("check", env=env, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS must be set" in result.stderr


def test_embedded_default_runs_on_sqlite_with_only_debug_set(tmp_path):
    """What `make run` does: DEBUG=1 and nothing else."""
    result = manage("migrate", "--noinput", env={"DEBUG": "1"}, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "db.sqlite3").exists()


def test_debug_is_off_unless_set(tmp_path):
    """With nothing set the app refuses to start rather than run with DEBUG on."""
    result = manage("check", env={}, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


# A request for a missing page, as the production recipe serves it (gunicorn, DEBUG unset).
MISSING_PAGE = """
from django.test import Client
response = Client().get("/no-such-page/", secure=True, HTTP_HOST="wishlist.example.org")
from django.conf import settings
print(settings.DEBUG, response.status_code, "URLconf" in response.content.decode())
"""


def test_a_missing_page_lists_no_url_pattern_when_debug_is_unset(tmp_path):
    env = {key: value for key, value in PRODUCTION.items() if key != "DEBUG"}
    # As a deployment does before serving: the styled 404 page names its stylesheet
    # through the manifest collectstatic writes.
    collected = manage("collectstatic", "--noinput", "-v", "0", env=env, tmp_path=tmp_path)
    assert collected.returncode == 0, collected.stderr
    result = manage("shell", "-v", "0", "-c", MISSING_PAGE, env=env, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "404", "False"]


def test_make_run_sets_debug_for_the_newcomer():
    result = subprocess.run(
        ["make", "-s", "--no-print-directory", "-f", "-", "-f", "Makefile", "show-debug"],
        cwd=ROOT,
        input="show-debug:\n\t@echo DEBUG=$$DEBUG\n",
        env={k: v for k, v in os.environ.items() if k not in {"DEBUG", "MAKEFLAGS"}},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "DEBUG=1"


def test_postgresql_connections_turn_jit_off_and_keep_the_urls_options(tmp_path):
    # JIT compiling took 55 ms of a 190 ms case list query at 100,000 cases.
    show = "from django.conf import settings; print(settings.DATABASES['default']['OPTIONS'])"
    plain = manage(
        "shell", "-c", show,
        env={"DEBUG": "1", "DATABASE_URL": "postgres://u@127.0.0.1:5432/db"},
        tmp_path=tmp_path,
    )  # fmt: skip
    with_options = manage(
        "shell", "-c", show,
        env={
            "DEBUG": "1",
            "DATABASE_URL": "postgres://u@127.0.0.1:5432/db?options=-c%20statement_timeout%3D5000",
        },
        tmp_path=tmp_path,
    )  # fmt: skip

    assert plain.returncode == 0, plain.stderr
    assert "'options': '-c jit=off'" in plain.stdout
    assert "'options': '-c statement_timeout=5000 -c jit=off'" in with_options.stdout
