"""The Celery application: broker from REDIS_URL (see settings), tasks found in cases.tasks."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wishlist.settings")

app = Celery("wishlist")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
