"""The people of the load test (bench/load_test.py), as locust users: each signs in as
one of the analysts bench/load_fill.py made (an analyst needs no second factor), then
reads the research pages as an analyst does: the case list plain, filtered, searched and
sorted, a case page of their team, the review queue and My work.

    /tmp/locust-venv/bin/locust -f bench/load_users.py --host http://127.0.0.1:8000

LOAD_THINK_MIN and LOAD_THINK_MAX (seconds, 1 and 2 by default) are the pause between
two pages; 0 and 0 for none. LOAD_PASSWORD is the analysts' password.
"""

import itertools
import os
import random
import re

from locust import HttpUser, between, constant, task

TEAMS = 8
PASSWORD = os.environ.get("LOAD_PASSWORD", "load-test-password")
THINK_MIN = float(os.environ.get("LOAD_THINK_MIN", "1"))
THINK_MAX = float(os.environ.get("LOAD_THINK_MAX", "2"))
SEARCHES = ["amber", "photonics", "helix optics", "cobalt robotics 4", "1234", "granite"]
FILTERS = [
    "status=open&status=in_review",
    "host_country=DE",
    "has_leads=true",
    "entity_type=university&status=open",
    "year=2019",
]
SORTS = ["name", "-name", "team", "leads", "-index_date", "status", "assignee"]
CASE_LINK = re.compile(r'href="/cases/(\d+)/"')
_analysts = itertools.count()


class Analyst(HttpUser):
    wait_time = constant(0) if THINK_MAX <= 0 else between(THINK_MIN, THINK_MAX)

    def on_start(self):
        self.username = f"load_analyst_{next(_analysts) % TEAMS + 1}"
        self.case_ids: list[int] = []
        self.client.get("/accounts/login/", name="login")
        response = self.client.post(
            "/accounts/login/",
            {
                "username": self.username,
                "password": PASSWORD,
                "csrfmiddlewaretoken": self.client.cookies.get("csrftoken", ""),
            },
            name="login",
        )
        if "/accounts/login/" in response.url:
            raise RuntimeError(f"{self.username} could not sign in")
        # The page a sign-in lands on, told apart from the list's later pages.
        self.read_list("/cases/", "/cases/ after sign-in")

    def read_list(self, url: str, name: str) -> None:
        """Read a case list page; keep the cases it links to for the case page."""
        with self.client.get(url, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")
                return
            found = [int(pk) for pk in CASE_LINK.findall(response.text)]
        if found:
            self.case_ids = (found + self.case_ids)[:500]

    @task(2)
    def case_list(self):
        self.read_list(f"/cases/?page={random.randint(1, 100)}", "/cases/")

    @task(2)
    def case_list_filtered(self):
        self.read_list(f"/cases/?{random.choice(FILTERS)}", "/cases/ filtered")

    @task(2)
    def case_list_searched(self):
        self.read_list(f"/cases/?q={random.choice(SEARCHES)}", "/cases/ ?q=")

    @task(2)
    def case_list_sorted(self):
        self.read_list(f"/cases/?sort={random.choice(SORTS)}", "/cases/ sorted")

    @task(4)
    def case_page(self):
        if self.case_ids:
            self.client.get(f"/cases/{random.choice(self.case_ids)}/", name="/cases/<pk>/")

    @task(3)
    def review_queue(self):
        self.client.get(f"/review/?page={random.randint(1, 20)}", name="/review/")

    @task(2)
    def my_work(self):
        self.client.get("/my/", name="/my/")
