"""The analytics charts: inline SVG drawn by matplotlib, with cohort labels (which may be
names typed by a person) escaped and never read as mathematics."""

import html
import re
from xml.etree import ElementTree

import pytest

from cases.analytics import charts, stats, survival_stats
from cases.analytics.selectors import CohortRate, CohortSurvival

HOSTILE = "<script>alert(1)</script>"
HOSTILE_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
MATHTEXT_LABELS = ["$\\foo$", "Acme $5M", "$$", "a \\$ b $", "$x^2$ and $"]


def rate_row(cohort: str, positive: int = 2, reviewed: int = 4, cases: int = 5) -> CohortRate:
    low, high = stats.wilson_interval(positive, reviewed)
    return CohortRate(
        cohort=cohort,
        cases=cases,
        reviewed=reviewed,
        positive=positive,
        rate=stats.rate(positive, reviewed),
        ci_low=low,
        ci_high=high,
        median_days=None,
    )


def curve(cohort: str, durations: list[float], observed: list[bool]) -> CohortSurvival:
    return CohortSurvival(
        cohort=cohort,
        curve=stats.kaplan_meier(durations, observed),
        watched=len(durations),
        unwatched=0,
        durations=durations,
    )


def svg_texts(svg: str) -> list[str]:
    """The text of every <text> element, in document order, unescaped."""
    return [html.unescape(text) for text in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]


def assert_no_inline_style(svg: str) -> None:
    """The pages' Content-Security-Policy (style-src 'self') refuses inline styles: the
    chart's colours must come as presentation attributes, which it does not govern."""
    assert "<style" not in svg
    assert " style=" not in svg
    root = ElementTree.fromstring(svg)  # still well-formed after the rewrite
    assert not [element.tag for element in root.iter() if "style" in element.attrib]
    assert 'fill="#ffffff"' in svg
    assert 'stroke="#1f5fa8"' in svg


# ------------------------------------------------------------------------ rates chart


def test_the_rates_chart_is_inline_svg():
    svg = charts.rates_chart([rate_row("2017"), rate_row("2018", 1, 3)], title="Share positive")

    assert svg.startswith("<svg")
    assert svg.rstrip().endswith("</svg>")
    assert "<?xml" not in svg
    assert "<!DOCTYPE" not in svg
    texts = svg_texts(svg)
    assert "2017 (n=4)" in texts
    assert "2018 (n=3)" in texts
    assert "Share positive" in texts
    assert_no_inline_style(svg)


def test_the_rates_chart_escapes_a_hostile_cohort_label():
    svg = charts.rates_chart([rate_row(HOSTILE)], title="Share positive")

    assert HOSTILE not in svg
    assert "<script" not in svg
    assert HOSTILE_ESCAPED in svg
    assert f"{HOSTILE} (n=4)" in svg_texts(svg)


@pytest.mark.parametrize("label", MATHTEXT_LABELS)
def test_the_rates_chart_shows_dollar_signs_as_typed(label):
    svg = charts.rates_chart([rate_row(label)], title="Share positive")

    assert svg.startswith("<svg")
    assert f"{label} (n=4)" in svg_texts(svg)


def test_the_rates_chart_shortens_a_long_label_and_still_escapes_it():
    label = HOSTILE + " " + "x" * 60

    svg = charts.rates_chart([rate_row(label)], title="Share positive")

    assert "<script" not in svg
    assert f"{label[:37]}… (n=4)" in svg_texts(svg)


@pytest.mark.parametrize(
    "rows",
    [[], [rate_row("2017", positive=0, reviewed=0)]],
    ids=["no rows", "nothing reviewed"],
)
def test_the_rates_chart_is_none_without_a_rate(rows):
    assert charts.rates_chart(rows, title="Share positive") is None


def test_the_rates_chart_leaves_out_cohorts_without_a_rate():
    svg = charts.rates_chart(
        [rate_row("reviewed"), rate_row("unreviewed", positive=0, reviewed=0)], title="t"
    )

    texts = svg_texts(svg)
    assert "reviewed (n=4)" in texts
    assert not any(text.startswith("unreviewed") for text in texts)


# --------------------------------------------------------------------- survival chart


def test_the_survival_chart_is_inline_svg():
    svg = charts.survival_chart(
        [curve("2017", [100.0, 400.0, 900.0], [True, False, True])], title="Time to outcome"
    )

    assert svg.startswith("<svg")
    assert "<?xml" not in svg
    texts = svg_texts(svg)
    assert "2017 (n=3)" in texts
    assert "Time to outcome" in texts
    assert "number at risk" in texts
    assert_no_inline_style(svg)


def test_the_survival_chart_escapes_a_hostile_cohort_label():
    svg = charts.survival_chart([curve(HOSTILE, [100.0, 400.0], [True, False])], title="t")

    assert HOSTILE not in svg
    assert "<script" not in svg
    assert HOSTILE_ESCAPED in svg
    assert f"{HOSTILE} (n=2)" in svg_texts(svg)


@pytest.mark.parametrize("label", MATHTEXT_LABELS)
def test_the_survival_chart_shows_dollar_signs_as_typed(label):
    svg = charts.survival_chart([curve(label, [100.0, 400.0], [True, False])], title="t")

    assert svg.startswith("<svg")
    assert f"{label} (n=2)" in svg_texts(svg)


@pytest.mark.parametrize(
    "curves",
    [[], [curve("never watched", [], [])]],
    ids=["no curves", "nothing watched"],
)
def test_the_survival_chart_is_none_without_a_watched_case(curves):
    assert charts.survival_chart(curves, title="t") is None


def test_the_survival_chart_prints_the_number_at_risk_under_each_year():
    first = [30.0, 100.0, 365.0, 800.0, 1200.0]
    second = [50.0, 500.0, 700.0]
    curves = [
        curve("first", first, [True, False, True, False, True]),
        curve("second", second, [False, True, False]),
    ]
    # The longest follow-up (1200 days) sets the axis: a mark every 365 days.
    years = [0, 365, 730, 1095]
    expected = stats.number_at_risk(first, years) + stats.number_at_risk(second, years)
    assert expected == [5, 3, 2, 1, 3, 2, 0, 0]  # worked out by hand, 365 still at risk

    svg = charts.survival_chart(curves, title="t")

    texts = svg_texts(svg)
    table = texts[texts.index("number at risk") + 1 :]
    assert table == [str(count) for count in expected]
    assert texts[:4] == ["0", "1", "2", "3"]  # the year marks


def test_the_survival_chart_runs_to_at_least_a_year():
    durations = [10.0, 20.0, 40.0]

    svg = charts.survival_chart([curve("short", durations, [True, False, True])], title="t")

    texts = svg_texts(svg)
    table = texts[texts.index("number at risk") + 1 :]
    assert table == [str(n) for n in stats.number_at_risk(durations, [0, 365])]
    assert table == ["3", "0"]


def followed_curve(cohort: str, durations: list[float], observed: list[bool]) -> CohortSurvival:
    item = curve(cohort, durations, observed)
    item.observed = observed
    item.band = survival_stats.km_band(durations, observed)
    return item


def test_the_survival_chart_shades_each_curves_interval_and_keeps_the_legend_outside():
    durations, observed = [100.0, 400.0, 900.0, 1000.0], [True, False, True, False]

    svg = charts.survival_chart([followed_curve("2017", durations, observed)], title="t")

    root = ElementTree.fromstring(svg)
    shaded = [e for e in root.iter() if e.get("fill-opacity") == "0.15"]
    assert shaded  # the band, drawn as presentation attributes
    assert "years since referral (shaded: 95 % interval)" in svg_texts(svg)
    assert_no_inline_style(svg)


def test_the_survival_chart_legend_is_outside_the_plot_area():
    from matplotlib import pyplot

    drawn = {}
    original = pyplot.close

    def keep(figure):
        drawn["figure"] = figure
        original(figure)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(charts.pyplot, "close", keep)
        charts.survival_chart([followed_curve("2017", [100.0, 400.0], [True, False])], title="t")
    axes = drawn["figure"].axes[0]
    legend = axes.get_legend().get_window_extent()
    assert legend.x0 >= axes.get_window_extent().x1  # right of the plot area


def test_the_survival_chart_says_which_cohorts_it_draws():
    curves = [followed_curve(f"c{n}", [100.0, 200.0 + n], [True, False]) for n in range(52)]

    shown, words = charts.survival_selection(curves)
    svg = charts.survival_chart(curves, title="t")

    assert len(shown) == 6
    assert words == "the 6 largest of 52 cohorts shown, by followed cases"
    assert words in svg_texts(svg)


def test_the_survival_chart_names_cohorts_left_out_for_want_of_followed_cases():
    curves = [followed_curve("a", [100.0], [True]), curve("b", [], [])]

    assert charts.survival_selection(curves)[1] == "1 of 2 cohorts shown: 1 with no followed case"
    assert charts.survival_selection(curves[:1])[1] == ""  # every cohort drawn: nothing to say
