"""The second CI pass (WISHLIST_TESTS=services, .ci/run) keeps a test when it reaches the
database or Redis; these tests ask tests/conftest.py about themselves."""

import pytest
from django.test import SimpleTestCase, TestCase

from tests.conftest import needs_services


def test_a_test_without_the_database_is_left_to_the_first_pass(request):
    assert not needs_services(request.node)


def test_a_test_with_the_database_fixture_runs_in_both_passes(request, db):
    assert needs_services(request.node)


def test_a_test_reaching_the_database_through_a_fixture_runs_in_both_passes(request, team):
    assert needs_services(request.node)


@pytest.mark.django_db
def test_a_test_marked_for_the_database_runs_in_both_passes(request):
    assert needs_services(request.node)


@pytest.mark.services
def test_a_test_marked_services_runs_in_both_passes(request):
    assert needs_services(request.node)


class _KnowsItsNode:
    @pytest.fixture(autouse=True)
    def _node(self, request):
        self.node = request.node


class TestADjangoTestCaseRunsInBothPasses(_KnowsItsNode, TestCase):
    def test_it(self):
        assert needs_services(self.node)


class TestASimpleTestCaseIsLeftToTheFirstPass(_KnowsItsNode, SimpleTestCase):
    def test_it(self):
        assert not needs_services(self.node)
