"""Celery tasks: thin wrappers that take ids and call services (see cases.services)."""

from celery import shared_task

from . import services


@shared_task(name="cases.refresh_index_dates")
def refresh_index_dates(case_ids: list[int] | None = None) -> int:
    """Recompute index dates (and finding timings) of these cases, or of every case."""
    return services.case_index_dates_refresh(case_ids=case_ids)
