"""The cohort_report command: the HTML holds the rates table's figures as worked out from
the raw rows (tests/management/commands/test_outcome_rates.py: expected_rates), the PDF's
first page is drawn and reads back the title and a figure, and bad arguments are refused
before any file is written."""

import datetime
import re

import pypdfium2
import pytest
from django.core.management import CommandError, call_command

from cases.analytics import methods
from cases.analytics.report import LIMITATIONS
from cases.models import Case
from tests.factories import CheckRunFactory
from tests.management.commands.test_outcome_rates import (  # noqa: F401 (a fixture)
    _reference_lists,
    dataset,
    expected_rates,
)
from wishlist.version import code_version

pytestmark = pytest.mark.django_db


SMALL = '<span class="small-flag">small</span>'


def percent(share: float) -> str:
    return f"{share * 100:.1f}"


def cells(html: str, cohort: str) -> list[str]:
    """The cells of one row of the rates table, tags and the small flag stripped."""
    table = html[
        html.index('id="report-rates"') : html.index("</table>", html.index('id="report-rates"'))
    ]
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.DOTALL):
        values = [
            re.sub(r"<[^>]+>", "", cell.replace(SMALL, "")).strip()
            for cell in re.findall(r"<td>(.*?)</td>", row)
        ]
        # A host country is shown with its name beside the code ("GB United Kingdom").
        if values and (
            values[0] == cohort or values[0].startswith(f"{cohort} ") and len(cohort) == 2
        ):
            return values
    raise AssertionError(f"no row {cohort!r}")


def report(tmp_path, *args: str) -> str:
    out = tmp_path / "report.html"
    call_command("cohort_report", *args, "--format", "html", "-o", str(out))
    return out.read_text()


@pytest.mark.usefixtures("dataset")
@pytest.mark.parametrize("by", ["host_country", "year", "entity_type"])
def test_the_html_holds_the_figures_of_each_cohort(tmp_path, by):
    html = report(tmp_path, "--by", by)

    expected = expected_rates(by, "any")
    for label, want in expected.items():
        row = cells(html, "all" if label == "(all)" else label)
        assert row[1:7] == [
            str(want["cases"]),
            str(want["checked"]),
            str(want["reviewed"]),
            str(want["concluded"]),
            str(want["positive"]),
            percent(want["rate"]) if want["rate"] is not None else "—",
        ], label
        assert row[8] == f"{percent(want['bound_low'])}–{percent(want['bound_high'])}"
        if want["rate"] is not None:
            assert row[7] == f"{percent(want['ci_low'])}–{percent(want['ci_high'])}"


@pytest.mark.usefixtures("dataset")
def test_the_html_flags_small_cohorts_and_states_how_it_was_made(tmp_path):
    html = report(tmp_path, "--by", "year", "--team", "Team Alpha")

    expected = expected_rates("year", "any", team="Team Alpha")
    small = [label for label, want in expected.items() if want["small"] and label != "(all)"]
    assert small
    for label in small:
        assert re.search(re.escape(f"<td>{label}{SMALL}"), html)
    assert code_version() in html
    assert re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(UTC\)", html)
    assert "teams: Team Alpha" in html and "dimension: year" in html
    for item in methods.definitions():
        assert f"<dt>{item.term}</dt>" in html
    assert all(text.split(".")[0] in html for text in LIMITATIONS)
    for section in ("report-coverage", "report-survival", "report-incidence"):
        assert f'id="{section}"' in html


@pytest.mark.usefixtures("dataset")
def test_the_html_loads_nothing_from_outside(tmp_path):
    # A searched period from each index date: the cases are followed, the chart is drawn.
    for case in Case.objects.filter(kind=Case.Kind.REFERRED, index_date__isnull=False):
        CheckRunFactory(
            case=case,
            searched_from=case.index_date,
            searched_to=datetime.date(2024, 1, 1),
            detects="joint_venture",
        )

    html = report(tmp_path, "--by", "year")

    assert "<svg" in html  # the survival chart, inline
    for outside in ("<link", "<script", "src=", "@import", 'href="http'):
        assert outside not in html
    # The chart refers to its own clip paths (url(#id)) and to nothing else.
    assert not re.search(r"url\((?!#)", html)


@pytest.mark.usefixtures("dataset")
def test_the_pdf_first_page_is_drawn_and_reads_back_title_and_figures(tmp_path):
    out = tmp_path / "report.pdf"

    call_command("cohort_report", "--by", "year", "--format", "pdf", "-o", str(out))

    assert out.read_bytes().startswith(b"%PDF-")
    document = pypdfium2.PdfDocument(str(out))
    page = document[0]
    image = page.render(scale=1).to_pil().convert("L")
    inked = sum(image.histogram()[:128])
    assert inked > 0.002 * image.width * image.height  # text and rules, not a blank page
    text = page.get_textpage().get_text_range()
    assert "Outcome rates by referral year (any outcome)" in text
    total = expected_rates("year", "any")["(all)"]
    assert percent(total["rate"]) in text
    assert code_version() in text


@pytest.mark.parametrize(
    "args, message",
    [
        (["--by", "colour"], "unknown dimension 'colour'; one of year, host_country"),
        (["--by", "year", "--outcome", "bribery"], "unknown outcome 'bribery'; one of any"),
        (["--by", "year", "--format", "docx"], "unknown format 'docx'; one of html, pdf"),
        (["--by", "year", "--team", "Nobody"], "no team named 'Nobody'"),
    ],
)
def test_bad_arguments_are_refused_and_write_nothing(db, tmp_path, args, message):
    out = tmp_path / "report.out"

    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("cohort_report", *args, "-o", str(out))

    assert not out.exists()
