"""Real Celery workers for the integration and fault tests: started against a Redis and
the test database, with GLEIF answered by a local server (tests.stub_server)."""

import datetime
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs

from django.conf import settings
from django.db import connection

from cases import derived
from tests.factories import CaseFactory, EntityFactory, ReferralFactory
from tests.stub_server import StubSource

ROOT = Path(__file__).resolve().parents[2]
CHILD = "5493001KJTIIGC8Y1R12"


def stub_record(lei: str) -> dict:
    return {
        "type": "lei-records",
        "id": lei,
        "attributes": {
            "lei": lei,
            "entity": {
                "legalName": {"name": "Acme Stub Robotics Ltd"},
                "legalAddress": {"country": "GB", "city": "London"},
            },
        },
    }


def gleif_route(path: str) -> tuple[int, bytes]:
    """Answer like GLEIF for any LEI: its record (without relationship links, so every
    relation is asked), one child in Shenzhen, no parents."""
    path, _, query = path.partition("?")
    if path == "/lei-records":
        asked = parse_qs(query).get("filter[lei]", [""])[0].split(",")
        records = [stub_record(lei) for lei in asked if lei]
        return 200, json.dumps({"data": records, "links": {}}).encode()
    if path.startswith("/lei-records/") and path.count("/") == 2:
        return 200, json.dumps({"data": stub_record(path.split("/")[2])}).encode()
    lei = path.split("/")[2] if path.startswith("/lei-records/") else ""
    if path.endswith("/direct-children"):
        record = {
            "type": "lei-records",
            "id": CHILD,
            "attributes": {
                "lei": CHILD,
                "entity": {
                    "legalName": {"name": "Shenzhen Stub Robotics Co., Ltd."},
                    "legalAddress": {"country": "CN", "city": "Shenzhen"},
                    "headquartersAddress": {"country": "CN", "city": "Shenzhen"},
                },
                "registration": {"initialRegistrationDate": "2019-02-01T00:00:00Z"},
            },
        }
        return 200, json.dumps({"data": [record], "links": {}}).encode()
    if path.endswith("/direct-child-relationships"):
        relationship = {
            "type": "relationship-records",
            "id": f"{CHILD}|{lei}",
            "attributes": {
                "relationship": {
                    "startNode": {"id": CHILD, "type": "LEI"},
                    "endNode": {"id": lei, "type": "LEI"},
                    "type": "IS_DIRECTLY_CONSOLIDATED_BY",
                    "status": "ACTIVE",
                    "periods": [
                        {"startDate": "2019-03-01T08:00:00Z", "type": "RELATIONSHIP_PERIOD"}
                    ],
                }
            },
        }
        return 200, json.dumps({"data": [relationship], "links": {}}).encode()
    if path.endswith("-children"):
        return 200, b'{"data": [], "links": {}}'
    return 404, b'{"errors": [{"status": "404", "title": "Not Found"}]}'


def database_url() -> str:
    db = connection.settings_dict
    return (
        f"postgres://{db.get('USER') or ''}@{db.get('HOST') or '127.0.0.1'}:"
        f"{db.get('PORT') or 5432}/{db['NAME']}"
    )


def start_worker(
    queue: str, stub: StubSource, *extra: str, rate: float = 50, redis_url: str = ""
) -> subprocess.Popen:
    """A worker of `queue` on the broker at redis_url (default: REDIS_URL)."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": redis_url or settings.REDIS_URL,
        "WISHLIST_GLEIF_URL": stub.url,
        "WISHLIST_GLEIF_RATE": str(rate),
        "CELERY_VISIBILITY_TIMEOUT": "5",
        "CELERY_RESTORE_INTERVAL": "2",
        # Rate-limit keys of this test alone, whatever else shares the Redis.
        "WISHLIST_REDIS_PREFIX": f"wishlist-test-{queue}",
        "WISHLIST_HTTP_READ_TIMEOUT": "60",
    }
    celery = shutil.which("celery", path=str(Path(sys.executable).parent)) or "celery"
    return subprocess.Popen(
        [celery, "-A", "wishlist", "worker", "-Q", queue, "-l", "warning", *extra],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(worker: subprocess.Popen, sig=signal.SIGTERM) -> str:
    if worker.poll() is None:
        os.killpg(worker.pid, sig)
    try:
        return worker.communicate(timeout=30)[0].decode(errors="replace")
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        return worker.communicate()[0].decode(errors="replace")


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def referred_case(lei: str = "INR2EJN1ERAN0W5ZP974"):
    entity = EntityFactory(lei=lei)
    ReferralFactory(entity=entity, date=datetime.date(2017, 5, 1), date_precision="month")
    case = CaseFactory(entity=entity)
    derived.case_index_dates_refresh(case_ids=[case.id])
    return case
