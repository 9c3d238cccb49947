"""The case list's layout and the form-error banner in Debian's headless Chromium (as
tests/test_browser.py): each status checkbox on its label's line, dates on one line, no
sideways scrolling at 800 px, headers that sort, a filter it cannot read named at the top,
and a refused save whose banner and field are both in view."""

import datetime
import re

import pytest
from playwright.sync_api import expect

from cases import derived
from cases.models import Case, Finding
from tests.factories import (
    AnalystFactory,
    CaseFactory,
    EntityFactory,
    FindingFactory,
    ReferralFactory,
    TeamFactory,
)
from tests.test_browser import PASSWORD, _sign_in, artifacts, browser, chromium  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONG_NAME = "Kestrel Photonics and Advanced Optoelectronic Systems Research Laboratories Ltd"


def _cases(team) -> list[Case]:
    """A page of cases with long names, native names and day-precise referral dates: the
    widest rows the list has."""
    made = []
    for n, country in enumerate(["DE", "FR", "GB", "DE", "JP", "US"]):
        entity = EntityFactory(
            name=f"{LONG_NAME} {n}", name_native="阿尔法光电子系统研究实验室有限公司"
        )
        ReferralFactory(
            entity=entity,
            host_country=country,
            date=datetime.date(2017, 1, 13 + n),
            date_precision="day",
        )
        made.append(CaseFactory(entity=entity, team=team))
    derived.case_index_dates_refresh(case_ids=[c.pk for c in made])
    return made


def _not_a_failure_of_the_page(errors: list[str]) -> list[str]:
    # Chromium logs a document served with an error status (the refused save is a 400).
    return [e for e in errors if "status of 400" not in e]


def test_the_status_filter_puts_each_checkbox_on_its_labels_line(browser, live_server):  # noqa: F811
    page, traffic = browser
    team = TeamFactory(name="Optics team")
    analyst = AnalystFactory(username="ana", password=PASSWORD, teams=[team])
    _cases(team)

    _sign_in(page, live_server.url, analyst.username, "/cases/")
    boxes = page.locator("#case-filters input[name=status]")
    assert boxes.count() == len(Case.Status.choices)
    for n in range(boxes.count()):
        box = boxes.nth(n).bounding_box()
        # The label's text, measured apart from the box it wraps.
        text = boxes.nth(n).evaluate(
            """input => {
                const range = document.createRange();
                range.selectNodeContents(input.closest("label"));
                range.setStartAfter(input);
                const r = range.getBoundingClientRect();
                return {x: r.x, y: r.y, width: r.width, height: r.height};
            }"""
        )
        assert box["width"] < 30, box  # a checkbox, not a box stretched across the sidebar
        assert text["width"] > 0
        assert text["x"] >= box["x"] + box["width"]  # the text to the right of its box
        assert text["x"] - (box["x"] + box["width"]) < 20  # and beside it
        middle = box["y"] + box["height"] / 2
        assert text["y"] <= middle <= text["y"] + text["height"]  # on the same line
        if n:  # and below the previous option, not between two labels
            assert box["y"] >= boxes.nth(n - 1).bounding_box()["y"] + box["height"]
    assert traffic.errors == []


def test_the_case_list_fits_800_px_and_keeps_dates_on_one_line(
    browser,  # noqa: F811
    live_server,
    artifacts,  # noqa: F811
):
    page, traffic = browser
    team = TeamFactory(name="Optics team")
    analyst = AnalystFactory(username="ana", password=PASSWORD, teams=[team])
    _cases(team)
    page.set_viewport_size({"width": 800, "height": 900})

    _sign_in(page, live_server.url, analyst.username, "/cases/")
    expect(page.locator("#case-table tbody tr")).to_have_count(6)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 800, f"the page is {width} px wide at 800 px"
    assert page.evaluate("document.body.scrollWidth") <= 800
    # The table is wider than the room it has: it scrolls in its own box instead.
    scroller = page.locator(".table-scroll")
    assert scroller.evaluate("e => getComputedStyle(e).overflowX") == "auto"

    dates = page.locator("#case-table td.date")
    expect(dates.first).to_have_text(re.compile(r"^2017-01-1\d$"))
    for n in range(dates.count()):
        lines = dates.nth(n).evaluate(
            """cell => {
                const range = document.createRange();
                range.selectNodeContents(cell);
                return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size;
            }"""
        )
        assert lines == 1, dates.nth(n).inner_text()
    page.screenshot(path=str(artifacts / "case-list-800.png"), full_page=True)
    assert traffic.errors == []


def test_the_column_headers_sort_the_list_and_keep_the_filters(browser, live_server):  # noqa: F811
    page, traffic = browser
    base = live_server.url
    team = TeamFactory(name="Optics team")
    analyst = AnalystFactory(username="ana", password=PASSWORD, teams=[team])
    _cases(team)
    rows = page.locator("#case-table tbody tr")

    _sign_in(page, base, analyst.username, "/cases/")
    # Newest referral first, and the Referred header says so.
    referred = page.locator("#case-table th", has_text="Referred")
    expect(referred).to_have_attribute("aria-sort", "descending")
    expect(rows.first).to_contain_text(f"{LONG_NAME} 5")

    filters = page.locator("#case-filters")
    filters.get_by_label("Host country").fill("Germany")
    filters.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(2)

    entity = page.locator("#case-table th", has_text="Entity")
    entity.get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"sort=name"))
    expect(page).to_have_url(re.compile(r"host_country=Germany"))
    expect(entity).to_have_attribute("aria-sort", "ascending")
    expect(entity).to_contain_text("▲")
    expect(rows.first).to_contain_text(f"{LONG_NAME} 0")
    expect(rows).to_have_count(2)  # the filter kept

    entity.get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"sort=-name"))
    expect(entity).to_contain_text("▼")
    expect(rows.first).to_contain_text(f"{LONG_NAME} 3")

    # Filtering again keeps the sort the headers set.
    filters.get_by_role("checkbox", name="open", exact=True).check()
    filters.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"sort=-name"))
    expect(rows.first).to_contain_text(f"{LONG_NAME} 3")
    assert traffic.errors == []


def test_a_filter_it_cannot_read_is_named_at_the_top_and_lists_nothing(
    browser,  # noqa: F811
    live_server,
    artifacts,  # noqa: F811
):
    page, traffic = browser
    team = TeamFactory(name="Optics team")
    analyst = AnalystFactory(username="ana", password=PASSWORD, teams=[team])
    _cases(team)

    _sign_in(page, live_server.url, analyst.username, "/cases/")
    filters = page.locator("#case-filters")
    filters.get_by_label("Host country").fill("Germany2")
    filters.get_by_role("button", name="Filter").click()

    banner = page.get_by_role("alert")
    expect(banner).to_contain_text("No cases are listed")
    expect(banner).to_contain_text("Host country “Germany2”")
    expect(banner).to_be_in_viewport()
    expect(page.locator("#case-table tbody")).to_contain_text("No cases listed")
    expect(page.locator("#case-table tbody tr")).to_have_count(1)
    expect(filters.get_by_label("Host country")).to_be_focused()
    page.screenshot(path=str(artifacts / "case-list-refused-filter.png"))
    assert _not_a_failure_of_the_page(traffic.errors) == []


def test_a_refused_save_shows_its_banner_and_its_field_in_view(browser, live_server, artifacts):  # noqa: F811
    page, traffic = browser
    team = TeamFactory(name="Optics team")
    analyst = AnalystFactory(username="ana", password=PASSWORD, teams=[team])
    case = CaseFactory(entity=EntityFactory(name="Kestrel Photonics Ltd"), team=team)
    for n in range(6):  # leads above the identifiers' form make the page long
        FindingFactory(
            case=case,
            source="gdelt",
            external_id=f"lead-{n}",
            review_state=Finding.ReviewState.LEAD,
            match_score=90 - n,
            excerpt="Kestrel Photonics signs a memorandum with a Wuhan institute. " * 3,
        )

    _sign_in(page, live_server.url, analyst.username, f"/cases/{case.pk}/")
    page.get_by_text("Edit identifiers").click()
    page.locator("#id_lei").fill("5299000EXAMPLE000100")  # check digits 00: never valid (ISO 7064)
    page.get_by_role("button", name="Save identifiers").click()

    banner = page.get_by_role("alert")
    expect(banner).to_contain_text("The identifiers were not saved")
    expect(banner.get_by_role("link", name="LEI")).to_be_visible()
    lei = page.locator("#id_lei")
    # The field is far below the top of the page: without the script it is out of view.
    assert lei.evaluate("e => e.getBoundingClientRect().top + window.scrollY") > 900
    expect(banner).to_be_in_viewport()
    expect(lei).to_be_in_viewport()
    expect(lei).to_be_focused()
    # The sticky banner does not cover the field.
    box, field = banner.bounding_box(), lei.bounding_box()
    assert field["y"] >= box["y"] + box["height"]

    # Its link brings the field back after the analyst has scrolled away.
    page.evaluate("window.scrollTo(0, 0)")
    banner.get_by_role("link", name="LEI").click()
    expect(lei).to_be_in_viewport()
    expect(lei).to_be_focused()
    page.screenshot(path=str(artifacts / "form-error-banner.png"))
    case.entity.refresh_from_db()
    assert case.entity.lei == ""
    assert _not_a_failure_of_the_page(traffic.errors) == []
