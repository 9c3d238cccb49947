"""Charts of the analytics page, drawn by the server as SVG with matplotlib, so the page
needs no script and nothing from outside the app."""

import io
import os
import re
import tempfile

from django.utils.safestring import SafeString, mark_safe

# matplotlib writes a font cache under MPLCONFIGDIR; the home directory of a service
# account may be read-only.
os.environ.setdefault("MPLCONFIGDIR", os.path.join(tempfile.gettempdir(), "wishlist-mpl"))

import matplotlib  # noqa: E402

matplotlib.use("Agg")  # no display on servers
from matplotlib import pyplot  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from cases.analytics.selectors import CohortRate, CohortSurvival
from cases.analytics.stats import number_at_risk
from cases.analytics.survival_stats import Band

matplotlib.rcParams.update(
    {
        "svg.fonttype": "none",  # text stays text: selectable, and escaped by matplotlib
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }
)

_COLOURS = ["#1f5fa8", "#c0392b", "#23794a", "#b9902f", "#6c3fa0", "#4d5a66"]


_STYLE_ELEMENT = re.compile(r"\s*<style[^>]*>.*?</style>", re.DOTALL)
_STYLE_ATTRIBUTE = re.compile(r' style="([^"]*)"')


def _presentation_attributes(svg: str) -> str:
    """Rewrite matplotlib's style="fill: #fff; stroke: ..." as presentation attributes
    (fill="#fff" stroke="..."), and its one <style> rule as attributes of the root that
    its children inherit: the pages' Content-Security-Policy (style-src 'self') refuses
    inline styles, and presentation attributes are not styles."""

    def attributes(match: re.Match) -> str:
        declarations = (part.split(":", 1) for part in match.group(1).split(";") if ":" in part)
        return "".join(f' {name.strip()}="{value.strip()}"' for name, value in declarations)

    svg = _STYLE_ELEMENT.sub("", svg, count=1)
    svg = svg.replace("<svg ", '<svg stroke-linejoin="round" stroke-linecap="butt" ', 1)
    return _STYLE_ATTRIBUTE.sub(attributes, svg)


def _svg(figure: Figure) -> SafeString:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    pyplot.close(figure)
    text = buffer.getvalue()
    # Drop the XML prologue and DOCTYPE: the SVG goes inline into an HTML page.
    # matplotlib escapes the text it writes (tests/analytics/test_charts.py checks a hostile name).
    return mark_safe(_presentation_attributes(text[text.index("<svg") :]))


def _short(label: str, limit: int = 38) -> str:
    """Shorten a label and keep matplotlib from reading "$...$" in it as mathematics."""
    label = label if len(label) <= limit else label[: limit - 1] + "…"
    return label.replace("$", r"\$")


def rates_chart(rows: list[CohortRate], *, title: str, limit: int = 25) -> SafeString | None:
    """Each cohort's rate as a dot with its 95 % interval as whiskers, largest first."""
    shown = [row for row in rows if row.rate is not None][:limit]
    if not shown:
        return None
    figure = pyplot.figure(figsize=(7.5, 0.32 * len(shown) + 1.2))
    axes = figure.add_subplot()
    positions = list(range(len(shown)))[::-1]
    for y, row in zip(positions, shown, strict=True):
        axes.plot([row.ci_low * 100, row.ci_high * 100], [y, y], color=_COLOURS[0], lw=1.5)
        axes.plot([row.rate * 100], [y], "o", color=_COLOURS[0], ms=5)
    axes.set_yticks(positions, [f"{_short(r.cohort)} (n={r.reviewed})" for r in shown])
    axes.set_xlim(0, 100)
    axes.set_xlabel("positive, % of reviewed cases (dot) with 95 % Wilson interval")
    axes.set_title(title, loc="left")
    axes.grid(axis="x", color="#e3e6ea")
    return _svg(figure)


def survival_selection(
    curves: list[CohortSurvival], *, limit: int = len(_COLOURS)
) -> tuple[list[CohortSurvival], str]:
    """The cohorts the survival chart draws, the largest by followed cases (the curves
    come sorted so), and the words that say which when not every cohort is drawn."""
    followed = [c for c in curves if c.watched]
    shown = followed[:limit]
    if len(shown) == len(curves):
        return shown, ""
    cohorts = f"{len(curves)} cohort{'s' if len(curves) != 1 else ''}"
    if len(shown) < len(followed):
        return shown, f"the {len(shown)} largest of {cohorts} shown, by followed cases"
    rest = len(curves) - len(shown)
    return shown, f"{len(shown)} of {cohorts} shown: {rest} with no followed case"


def survival_chart(
    curves: list[CohortSurvival], *, title: str, limit: int = len(_COLOURS)
) -> SafeString | None:
    """Kaplan-Meier curves (share still without the outcome) with their 95 % bands, the
    number at risk under them, and which cohorts are drawn when not all are."""
    shown, selection = survival_selection(curves, limit=limit)
    if not shown:
        return None
    horizon = max(365, *(max(c.durations, default=0) for c in shown))
    ticks = list(range(0, int(horizon) + 1, 365))
    figure = pyplot.figure(figsize=(7.5, 4.2 + 0.22 * len(shown)))
    grid = figure.add_gridspec(2, 1, height_ratios=[4, 0.4 + 0.25 * len(shown)], hspace=0.35)
    axes = figure.add_subplot(grid[0])
    table_axes = figure.add_subplot(grid[1])
    for colour, item in zip(_COLOURS, shown, strict=False):
        times = [0.0, *item.curve.times]
        survival = [1.0, *item.curve.survival]
        if times[-1] < horizon:
            times.append(horizon)
            survival.append(survival[-1])
        axes.step(
            times,
            [s * 100 for s in survival],
            where="post",
            color=colour,
            label=f"{_short(item.cohort, 30)} (n={item.watched})",
        )
        if item.band is not None:
            _band(axes, item.band, max(item.durations, default=0.0), colour)
    axes.set_ylim(0, 102)
    axes.set_xlim(0, horizon)
    axes.set_xticks(ticks, [str(day // 365) for day in ticks])
    axes.set_xlabel("years since referral (shaded: 95 % interval)")
    axes.set_ylabel("% without the outcome")
    axes.set_title(title, loc="left")
    if selection:
        axes.set_title(selection, loc="right", fontsize=8, color="#5b6672")
    # Outside the plot area, where it hides no step of any curve.
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    axes.grid(color="#e3e6ea")
    # The number at risk under each year mark, per cohort: how much the curve stands on.
    table_axes.axis("off")
    table_axes.set_xlim(0, horizon)
    table_axes.set_ylim(0, len(shown))
    table_axes.text(0, len(shown) + 0.2, "number at risk", fontsize=8, color="#5b6672")
    for row, (colour, item) in enumerate(zip(_COLOURS, shown, strict=False)):
        y = len(shown) - row - 0.5
        counts = number_at_risk(item.durations, ticks)
        for day, count in zip(ticks, counts, strict=True):
            table_axes.text(day, y, str(count), ha="center", va="center", color=colour, fontsize=8)
    return _svg(figure)


def _band(axes, band: Band, until: float, colour: str) -> None:
    """The pointwise interval as a shaded step, up to the cohort's longest follow-up:
    past it the curve says nothing."""
    times = [*band.times, max(until, band.times[-1])]
    low = [v * 100 for v in [*band.low, band.low[-1]]]
    high = [v * 100 for v in [*band.high, band.high[-1]]]
    axes.fill_between(times, low, high, step="post", color=colour, alpha=0.15, linewidth=0)
