"""Benchmark the admin's referral upload: how long the upload request takes to return
with N generated rows (the import itself runs as a job after it), median of R runs.

    python bench/import_upload.py 100000 5

Embedded mode (no REDIS_URL): the job runs in a thread of this process; each run waits
for its job to finish before the next upload, so jobs never overlap the timed request.
With REDIS_URL the job is queued for a worker. A throwaway test database
(<name>_bench_upload) is created and destroyed around the run; the uploads go to a
temporary folder. The time includes the test client encoding the multipart body.
"""

import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wishlist.settings")

import django

django.setup()

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import setup_test_environment
from django.urls import reverse
from import_referrals import generate  # this folder is on the path of a script run

from cases.models import ImportRecord


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    data = generate(rows)
    print(f"database: {connection.vendor}; rows: {rows}; file: {len(data) / 1e6:.1f} MB")
    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.settings_dict["TEST"]["NAME"] = f"{Path(str(old_name)).name}_bench_upload"
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        with tempfile.TemporaryDirectory() as folder:
            settings.IMPORT_UPLOAD_DIR = Path(folder)
            settings.ALLOWED_HOSTS = ["testserver"]
            admin = get_user_model().objects.create_superuser("bench", password="x" * 12)
            client = Client()
            client.force_login(admin)
            url = reverse("admin:cases_referral_import")
            times = []
            for _ in range(runs):
                upload = SimpleUploadedFile("referrals.csv", data, content_type="text/csv")
                start = time.perf_counter()
                response = client.post(url, {"file": upload})
                times.append(time.perf_counter() - start)
                assert response.status_code == 302, response.status_code
                record = ImportRecord.objects.latest("id")
                for thread in threading.enumerate():
                    if thread.name == f"import-{record.pk}":
                        thread.join()
                record.refresh_from_db()
                print(f"  upload returned in {times[-1]:.3f} s; its job: {record.state}")
            print(f"median upload request: {statistics.median(times):.3f} s over {runs} runs")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
