"""Settings of the test suite: the project's own, loaded as on a developer's machine.

DEBUG is off unless set (wishlist/settings.py), and off requires a SECRET_KEY and
ALLOWED_HOSTS and redirects every request to HTTPS. The suite loads the settings as
`make run` does, with DEBUG=1 in the environment (which the servers and workers that tests
start inherit); pytest-django still runs each test with settings.DEBUG False, as Django's
own test runner does. The production defaults are tested in subprocesses that set the
environment they need (tests/wishlist/test_settings.py).
"""

import os

os.environ["DEBUG"] = "1"

from wishlist.settings import *  # noqa: E402, F403

# Confirming a lead with a URL would capture its page from the network; the evidence
# tests (tests/evidence/) turn it on where they serve the page themselves.
WISHLIST_CAPTURE_ON_CONFIRM = False

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # The test database is a file, as the embedded default's is, not Django's in-memory
    # one: that is one shared cache whose table locks fail at once ("database table is
    # locked") when a check's or a capture's thread writes while the test reads, where
    # a file waits out the busy timeout as the embedded server does. Nothing needs to
    # survive a crash of a test run, so commits skip the sync to disk.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}  # noqa: F405
    DATABASES["default"]["OPTIONS"]["init_command"] = "PRAGMA synchronous=OFF"  # noqa: F405
