"""Where kept evidence is stored: a local folder by default, an S3-compatible bucket when
one is named (the settings are read in a fresh interpreter, with no network and without
django-storages installed: the backend is imported only when a file is first used)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHOW = (
    "import json, wishlist.settings as s; "
    "e = s.STORAGES['evidence']; "
    "print(json.dumps({'backend': e['BACKEND'], 'options': {k: str(v) for k, v in "
    "e['OPTIONS'].items()}}))"
)


def evidence_storage(tmp_path: Path, **env: str) -> dict:
    base = {k: v for k, v in os.environ.items() if not k.startswith("WISHLIST_EVIDENCE_")}
    result = subprocess.run(
        [sys.executable, "-c", SHOW],
        cwd=ROOT,
        env={**base, "DEBUG": "1", "WISHLIST_DATA_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_by_default_evidence_is_kept_in_the_data_folder(tmp_path):
    storage = evidence_storage(tmp_path)

    assert storage["backend"] == "django.core.files.storage.FileSystemStorage"
    assert storage["options"]["location"] == str(tmp_path / "evidence")


def test_a_named_bucket_selects_the_s3_backend_with_its_settings(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("s3cr3t\n")

    storage = evidence_storage(
        tmp_path,
        WISHLIST_EVIDENCE_S3_BUCKET="wishlist-evidence",
        WISHLIST_EVIDENCE_S3_ENDPOINT_URL="https://minio.internal:9000",
        WISHLIST_EVIDENCE_S3_ACCESS_KEY="AKIA-TEST",
        WISHLIST_EVIDENCE_S3_SECRET_KEY_FILE=str(secret),
    )

    assert storage["backend"] == "storages.backends.s3.S3Storage"
    assert storage["options"]["bucket_name"] == "wishlist-evidence"
    assert storage["options"]["endpoint_url"] == "https://minio.internal:9000"
    assert storage["options"]["access_key"] == "AKIA-TEST"
    assert storage["options"]["secret_key"] == "s3cr3t"
    assert storage["options"]["file_overwrite"] == "False"
    assert storage["options"]["default_acl"] == "None"
