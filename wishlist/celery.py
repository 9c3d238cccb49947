"""The Celery application: broker from REDIS_URL (see settings), tasks found in cases.tasks."""

import gc
import os

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wishlist.settings")

app = Celery("wishlist")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def _require_reference_lists(**kwargs):
    # A worker runs no system checks: refuse to start with a missing or malformed list.
    from cases.apps import reference_lists_require

    reference_lists_require()


@worker_init.connect
def _freeze_startup_objects(**kwargs):
    # Django, the models and the sources are loaded by now and live as long as the
    # worker: moving them out of the collector's view shortens its pauses, which
    # otherwise delay requests already granted a rate-limit slot.
    gc.collect()
    gc.freeze()
