# Indexes for the research pages at 100,000 cases and 500,000 findings (issue 14, the
# load test in bench/load_test.py). The three plain ones are the models' Meta indexes; the
# others are PostgreSQL's own: sort orders with NULLS LAST, which SQLite's CREATE INDEX
# cannot say, and trigram indexes for the case list's name search (pg_trgm), which
# SQLite has no equivalent of. SQLite reads the same pages without them.

from django.conf import settings
from django.db import migrations, models

POSTGRESQL_INDEXES = {
    # The case list in its default order (newest referral first, cases.casework.filters
    # DEFAULT_SORT) is read from this index until a page is full, not sorted whole.
    "case_index_date_list_idx": "cases_case (index_date DESC NULLS LAST, id)",
    # The list sorted by name descending (ascending reads entity_name_idx).
    "entity_name_desc_idx": "cases_entity (name DESC NULLS LAST)",
    # The review queue's order (cases.casework.selectors.review_queue) over waiting leads.
    "finding_review_queue_idx": (
        "cases_finding ((timing = 'before'), match_score DESC NULLS LAST, created_at, id) "
        "WHERE review_state = 'lead'"
    ),
    # The name search (CaseFilter.search): case-insensitive regular expressions on names,
    # native names and aliases, and a substring of the name key.
    "entity_name_trgm_idx": "cases_entity USING gin (name gin_trgm_ops)",
    "entity_name_native_trgm_idx": "cases_entity USING gin (name_native gin_trgm_ops)",
    "entity_aliases_trgm_idx": "cases_entity USING gin (aliases gin_trgm_ops)",
    "entity_name_key_trgm_idx": "cases_entity USING gin (name_key gin_trgm_ops)",
}


def create_postgresql_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # Trusted since PostgreSQL 13: the database's owner may create it.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm", params=None)
    for name, definition in POSTGRESQL_INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}", params=None)


def drop_postgresql_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # The extension is left installed: other databases' objects may use it.
    for name in POSTGRESQL_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}", params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0024_evidence'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name='entity',
            index=models.Index(fields=['name'], name='entity_name_idx'),
        ),
        migrations.AddIndex(
            model_name='finding',
            index=models.Index(condition=models.Q(('review_state', 'lead')), fields=['case'], name='finding_lead_case_idx'),
        ),
        migrations.AddIndex(
            model_name='finding',
            index=models.Index(condition=models.Q(('review_state', 'confirmed'), ('timing', 'after')), fields=['case'], name='finding_positive_case_idx'),
        ),
        migrations.RunPython(create_postgresql_indexes, drop_postgresql_indexes),
    ]
