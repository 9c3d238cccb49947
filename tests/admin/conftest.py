"""Fixtures of the admin tests: one row of every model the admin lists."""

import pytest

from tests.admin.helpers import make_row


@pytest.fixture
def row():
    return make_row(0)


@pytest.fixture
def objects(row):
    return {
        "entity": row.entity,
        "post": row.entity.referrals.get().post,
        "referral": row.entity.referrals.get(),
        "case": row,
        "finding": row.findings.first(),
        "checkrun": row.check_runs.get(),
    }
