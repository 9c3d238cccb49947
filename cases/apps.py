from django.apps import AppConfig
from django.core import checks
from django.core.exceptions import ImproperlyConfigured


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = "Cases"

    def ready(self):
        checks.register(reference_lists_check)
        # Sign-ins, failed sign-ins, sign-outs, lockouts and admin changes go to the audit log.
        from cases.accounts import receivers as accounts_receivers  # noqa: F401
        from cases.audit import receivers as audit_receivers  # noqa: F401


def reference_lists_check(app_configs=None, **kwargs) -> list[checks.Error]:
    """Read every reference list now, so a missing or malformed one stops start-up
    (manage.py check, runserver, migrate) instead of leaving blocs or DoD flags empty."""
    # Imported here: this module is loaded before the app registry is ready.
    from cases import blocs, reference
    from cases.checks import matching

    errors = []
    for read in (blocs.memberships, matching.dod_1260h_names):
        try:
            read()
        except reference.ReferenceListError as exc:
            errors.append(
                checks.Error(
                    str(exc),
                    hint=(
                        "Point WISHLIST_REFERENCE_DIR at a folder holding good copies of "
                        f"{', '.join(reference.LISTS)}, or unset it to read the lists "
                        "shipped in cases/reference/."
                    ),
                    id="cases.E001",
                )
            )
    return errors


def reference_lists_require() -> None:
    """Raise ImproperlyConfigured when a reference list is missing or malformed.

    For the processes that run no system checks: gunicorn (wishlist/wsgi.py) and the
    Celery workers (wishlist/celery.py), which would otherwise start and leave blocs or
    DoD flags empty on first use.
    """
    errors = reference_lists_check()
    if errors:
        raise ImproperlyConfigured("; ".join(f"{e.msg} {e.hint}" for e in errors))
