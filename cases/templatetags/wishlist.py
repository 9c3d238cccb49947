"""Template filters of the research pages."""

from django import template

register = template.Library()


@register.filter
def http_url(value: str) -> str:
    """The URL if it is http(s), else "": a stored link must never run script when clicked."""
    text = (value or "").strip()
    return text if text.lower().startswith(("http://", "https://")) else ""


@register.filter
def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}"


@register.filter
def pct(value: float | None) -> str:
    """A share as a percentage with one decimal; a dash when undefined."""
    return "—" if value is None else f"{value * 100:.1f}"


@register.filter
def total(values) -> int:
    return sum(values or [])
