"""`manage.py resolve_identifiers`: proposes here (--sync) and prints a table or JSON."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from responses import matchers

from tests.factories import CaseFactory, EntityFactory
from tests.identity import bodies
from tests.identity.conftest import mocked, quick_registries  # noqa: F401  (fixtures)

GLEIF = "https://api.gleif.org/api/v1/lei-records"
pytestmark = pytest.mark.django_db


@pytest.fixture
def bmw_case(mocked):  # noqa: F811
    record = bodies.lei_record(bodies.LEI_BMW, "Bayerische Motoren Werke AG", "DE", ("BMW AG",))
    mocked.get(
        GLEIF,
        json=bodies.lei_records(record),
        match=[
            matchers.query_param_matcher({"filter[entity.legalName]": "BMW AG"}, strict_match=False)
        ],
    )
    return CaseFactory(entity=EntityFactory(name="BMW AG", country="DE"))


def run(*args) -> str:
    out = StringIO()
    call_command("resolve_identifiers", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_it_prints_the_candidates_as_json(bmw_case):
    output = run("--case", str(bmw_case.pk), "--registry", "gleif", "--sync", "--format", "json")
    [row] = json.loads(output)
    assert set(row) == {
        "entity_id",
        "entity_name",
        "registry",
        "identifier",
        "score",
        "explanation",
        "state",
    }
    assert (row["entity_id"], row["entity_name"], row["registry"], row["identifier"]) == (
        bmw_case.entity_id,
        "BMW AG",
        "gleif",
        bodies.LEI_BMW,
    )
    assert (row["score"], row["state"]) == (100, "suggested")


def test_it_prints_a_table_by_default(bmw_case):
    lines = run("--registry", "gleif", "--sync").splitlines()
    assert lines[0].split()[:6] == ["entity", "name", "registry", "identifier", "score", "state"]
    assert bodies.LEI_BMW in lines[1] and "suggested" in lines[1] and "100.0" in lines[1]


def test_without_a_broker_it_runs_here_and_a_second_run_adds_nothing(bmw_case, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True  # what no REDIS_URL means
    first = json.loads(run("--registry", "gleif", "--format", "json"))
    second = json.loads(run("--registry", "gleif", "--format", "json"))
    assert first == second and len(first) == 1


def test_an_unknown_case_or_registry_is_refused():
    with pytest.raises(CommandError, match="no case with id 999"):
        run("--case", "999", "--sync")
    with pytest.raises(CommandError):
        run("--registry", "nowhere", "--sync")


def test_with_a_broker_it_queues_one_task_per_batch_sent_after_commit(
    bmw_case, settings, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    for _ in range(50):  # 51 entities: two batches
        CaseFactory()
    err = StringIO()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        out = StringIO()
        call_command("resolve_identifiers", "--format", "json", stdout=out, stderr=err)
    assert len(callbacks) == 2  # sent only once the transaction commits
    assert "Queued 51 entities" in err.getvalue()
    assert json.loads(out.getvalue()) == []  # nothing proposed yet: the workers will
