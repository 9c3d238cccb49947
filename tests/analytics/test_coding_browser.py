# ruff: noqa: F811  (pytest fixtures imported from the browser test)
"""The blind second-reading form in a real headless Chromium (see tests/test_browser.py):
each outcome-kind checkbox sits beside its own label, and ticking by label records it."""

import datetime

import pytest
from playwright.sync_api import expect

from cases import derived
from cases.analytics import services as analytics_services
from cases.models import Case, Finding, SecondCoding
from tests.factories import (
    AnalystFactory,
    CaseFactory,
    EntityFactory,
    ReferralFactory,
    TeamFactory,
)
from tests.test_browser import PASSWORD, _sign_in, browser, chromium  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# For every checkbox of the reading form: its own label (the one whose `for` names it),
# whether that label holds it, and the boxes of the input and of the label's text.
GEOMETRY = """() => [...document.querySelectorAll('#reading-kinds input[type=checkbox]')]
  .map(input => {
    const label = document.querySelector(`label[for="${input.id}"]`);
    const text = [...label.childNodes].find(n => n.nodeType === 3 && n.textContent.trim());
    const range = document.createRange();
    range.selectNodeContents(text);
    const box = input.getBoundingClientRect(), words = range.getBoundingClientRect();
    return {value: input.value, label: text.textContent.trim(), wraps: label.contains(input),
            box: [box.left, box.right, box.top, box.bottom],
            words: [words.left, words.right, words.top, words.bottom]};
  })"""


def _scenario():
    team = TeamFactory(name="Optics team")
    coder = AnalystFactory(username="bea", password=PASSWORD, teams=[team])
    entity = EntityFactory(name="Kestrel Photonics Ltd")
    ReferralFactory(entity=entity, date=datetime.date(2017, 5, 1), date_precision="month")
    case = CaseFactory(entity=entity, team=team, status=Case.Status.CONCLUDED)
    derived.case_index_dates_refresh(case_ids=[case.pk])
    coding = analytics_services.second_coding_assign(case=case, coder=coder, actor=None)
    return coder, case, coding


def test_each_checkbox_sits_beside_its_own_label(browser, live_server):
    page, traffic = browser
    coder, case, coding = _scenario()
    path = f"/coding/{case.pk}/"

    _sign_in(page, live_server.url, coder.username, path)
    boxes = page.evaluate(GEOMETRY)

    labels = dict(Finding.Kind.choices)
    assert [b["value"] for b in boxes] == list(labels)
    for b in boxes:
        left, right, top, bottom = b["box"]
        w_left, _, w_top, w_bottom = b["words"]
        assert b["label"] == labels[b["value"]]
        assert b["wraps"], b
        # The box is a box, not stretched across the form, and its text starts just after
        # it on the same line: their vertical middles are within half a box of each other.
        assert right - left < 40, b
        assert 0 <= w_left - right < 24, b
        assert abs((top + bottom) / 2 - (w_top + w_bottom) / 2) < (bottom - top) / 2 + 1, b
    # One box per line, in order: each label below the one before.
    tops = [b["box"][2] for b in boxes]
    assert tops == sorted(tops) and len(set(tops)) == len(tops)

    # Ticking by the label's text ticks that label's box, and the reading records it.
    form = page.locator("#reading-form")
    form.get_by_label(labels[Finding.Kind.JOINT_VENTURE], exact=True).check()
    expect(form.locator(f"input[value={Finding.Kind.JOINT_VENTURE}]")).to_be_checked()
    expect(form.locator(f"input[value={Finding.Kind.PARTNERSHIP}]")).not_to_be_checked()
    form.get_by_role("button", name="Record reading").click()
    expect(page.locator(".messages")).to_contain_text("Second reading recorded.")

    assert SecondCoding.objects.get(pk=coding.pk).positive_kinds == [Finding.Kind.JOINT_VENTURE]
    assert traffic.errors == []
