"""Error reports mask every credential (wishlist/debug.py), on the page DEBUG shows and in
what is mailed to admins."""

import sys

import pytest
from django.test import RequestFactory, override_settings
from django.views.debug import technical_500_response

from wishlist.debug import CredentialMaskingFilter

SECRETS = {
    "DATABASE_URL": "postgres://wishlist:db-pw-4f1a@db.internal:5432/wishlist",
    "REDIS_URL": "redis://:redis-pw-9c2e@redis.internal:6379/0",
    "CELERY_BROKER_URL": "rediss://celery:broker-pw-77d0@redis.internal:6380/1",
    "OPENALEX_API_KEY": "openalex-key-31b8",
    "COMPANIES_HOUSE_API_KEY": "ch-key-5e6f",
    "SEC_USER_AGENT": "Wishlist research tool jane.doe.4471@example.org",
    "WISHLIST_MIRROR": "https://mirror:mirror-pw-0a9b@mirror.example.org/gleif",
    "CACHES": {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "redis://cache:cache-pw-8d3c@redis.internal:6379/2",
            "OPTIONS": {"PASSWORD": "cache-option-pw-2b7a"},
        }
    },
    "REPLICA": {"URL": "postgres://replica@db.internal/w?sslmode=require&password=query-pw-6e1d"},
}
# Built, so that the page's source excerpts of this file hold no password.
LOCAL_PASSWORD = "-".join(["local", "pw", "1c5d"])
META_PASSWORD = "-".join(["meta", "pw", "3a8e"])
PASSWORDS = [
    "db-pw-4f1a",
    "redis-pw-9c2e",
    "broker-pw-77d0",
    "openalex-key-31b8",
    "ch-key-5e6f",
    "jane.doe.4471",
    "mirror-pw-0a9b",
    "cache-pw-8d3c",
    "cache-option-pw-2b7a",
    "query-pw-6e1d",
    LOCAL_PASSWORD,
    META_PASSWORD,
]


def error_page() -> str:
    """The technical 500 page for a request that failed while holding a connection string,
    made as under runserver, whose requests carry the process environment in META."""
    request = RequestFactory().get(
        "/cases/", DATABASE_URL=f"postgres://app:{META_PASSWORD}@db.internal/wishlist"
    )

    def connect():
        conninfo = f"postgres://app:{LOCAL_PASSWORD}@db.internal/wishlist"  # noqa: F841
        raise ConnectionError("could not connect")

    try:
        connect()
    except ConnectionError:
        return technical_500_response(request, *sys.exc_info()).content.decode()


@override_settings(**SECRETS)
def test_the_error_page_shows_no_credential():
    page = error_page()

    for password in PASSWORDS:
        assert password not in page
    # Still a useful report: the settings are listed, hosts and names kept.
    for name in ("DATABASE_URL", "CACHES", "REPLICA", "conninfo"):
        assert name in page
    assert "mirror.example.org/gleif" in page
    assert "sslmode=require" in page


@pytest.mark.parametrize(
    "text, masked",
    [
        ("postgres://u:p@h:5432/d", "postgres://********************@h:5432/d"),
        ("redis://:p@h:6379/0", "redis://********************@h:6379/0"),
        (
            "see https://u:p@h/x and ftp://a:b@c/",
            "see https://********************@h/x and ftp://********************@c/",
        ),
        ("https://h/x?a=1&api_key=s&b=2", "https://h/x?a=1&api_key=********************&b=2"),
        ("https://example.org/path?page=2", "https://example.org/path?page=2"),
        ("sqlite:///var/db.sqlite3", "sqlite:///var/db.sqlite3"),
        ("an@email.org", "an@email.org"),
    ],
)
def test_it_masks_the_credentials_of_any_url(text, masked):
    assert CredentialMaskingFilter().cleanse_text(text) == masked


def test_it_masks_the_database_settings_password_and_keeps_the_rest():
    databases = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": "wishlist",
            "USER": "wishlist",
            "PASSWORD": "db-settings-pw",
            "HOST": "db.internal",
        }
    }

    cleansed = CredentialMaskingFilter().cleanse_setting("DATABASES", databases)

    assert cleansed["default"]["PASSWORD"] == CredentialMaskingFilter.cleansed_substitute
    assert {k: v for k, v in cleansed["default"].items() if k != "PASSWORD"} == {
        k: v for k, v in databases["default"].items() if k != "PASSWORD"
    }
