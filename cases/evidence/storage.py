"""Writing and reading kept evidence through Django's storage API (STORAGES["evidence"]:
a local folder, or an S3-compatible bucket), under names we make, never a user's."""

from django.core.files import File
from django.core.files.base import ContentFile

from cases.models import Evidence, evidence_storage


def capture_name(evidence: Evidence, part: str) -> str:
    """Where a capture's part is kept: by case, finding and capture."""
    finding = evidence.finding
    return f"case-{finding.case_id}/finding-{finding.pk}/capture-{evidence.pk}/{part}"


def attachment_name(*, case_id: int, finding_id: int, sha256: str, extension: str) -> str:
    return f"case-{case_id}/finding-{finding_id}/{sha256}{extension}"


def evidence_save(name: str, content: bytes | File) -> str:
    """Store the content; return the name it was stored under (the storage may change it
    rather than overwrite a file of that name)."""
    if isinstance(content, bytes):
        content = ContentFile(content)
    return evidence_storage().save(name, content)


def evidence_delete(names: list[str]) -> None:
    """Remove stored files (those of a capture or an upload that failed half-way)."""
    storage = evidence_storage()
    for name in names:
        storage.delete(name)


def evidence_open(name: str) -> File:
    return evidence_storage().open(name, "rb")


def evidence_listing() -> list[str]:
    """Every stored file's name, for comparing before and after (tests, an audit)."""
    storage = evidence_storage()
    names: list[str] = []

    def walk(folder: str) -> None:
        try:
            dirs, files = storage.listdir(folder)
        except FileNotFoundError:
            return
        names.extend(f"{folder}/{f}".lstrip("/") for f in files)
        for d in dirs:
            walk(f"{folder}/{d}".lstrip("/"))

    walk("")
    return sorted(names)
