"""WSGI entry point for gunicorn and other WSGI servers."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wishlist.settings")
application = get_wsgi_application()

# A server runs no system checks: refuse to serve with a missing or malformed reference list.
from cases.apps import reference_lists_require  # noqa: E402 (needs the app registry)

reference_lists_require()
