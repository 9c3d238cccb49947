"""Template filters of the research pages."""

from django import template

from cases.analytics import downloads
from cases.analytics.cohorts import cohort_display

register = template.Library()


@register.filter
def http_url(value: str) -> str:
    """The URL if it is http(s), else "": a stored link must never run script when clicked."""
    text = (value or "").strip()
    return text if text.lower().startswith(("http://", "https://")) else ""


@register.filter
def percent(value: float | None) -> str:
    """A share of 1 as a percentage with one decimal, without the sign (the column
    heading has it); a dash when undefined."""
    return downloads.percent(value, sign="")


@register.filter
def score(value: float | None) -> str:
    """A match score out of 100, rounded; a dash when there is none."""
    return "—" if value is None else f"{value:.0f}"


@register.filter
def total(values) -> int:
    return sum(values or [])


@register.filter
def cohort_name(label: str, by: str | None) -> str:
    """A cohort label with a country's name beside its code (cohorts.cohort_display)."""
    return cohort_display(by, str(label))
