# The case list's name search on PostgreSQL (issue 14, bench/load_test.py). The search
# was one regular expression with a class of accented letters for each letter of the
# query ("[EeÈÉÊË...]") over three columns, which trigram indexes cannot use: every
# search read the 100,000 names whole (about 400 ms). Here the names, native names and
# aliases are kept folded (accents by unaccent, then case) in one column the database
# computes itself, with a trigram index: the search's plain pattern is found from the
# index, and a broad one (a word in thousands of names) reads one cheap column per row
# instead of unaccenting three (the count of a team's matches for "photonics" went from
# about 135 ms to 50).
#
# The column is PostgreSQL's alone and not a field of the model: SQLite has no unaccent
# and keeps the one regular expression (cases.casework.filters.CaseFilter.search), and
# the ORM never writes a generated column. A later migration that changes the type of
# name, name_native or aliases must drop the column first and add it again.
#
# unaccent() is only STABLE (its rules are a file that may change), so a generated
# column cannot call it; wishlist_unaccent names the dictionary and is declared
# IMMUTABLE, as PostgreSQL's documentation of unaccent suggests.

from django.db import migrations

FUNCTION = "wishlist_unaccent"
COLUMN = "search_folded"
INDEX = "entity_search_folded_trgm_idx"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # Trusted since PostgreSQL 13, as pg_trgm (0025): the database's owner may create it.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS unaccent", params=None)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'unaccent'"
        )
        (schema,) = cursor.fetchone()
    schema_editor.execute(
        f"""CREATE OR REPLACE FUNCTION {FUNCTION}(text) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
        AS $$ SELECT {schema}.unaccent('{schema}.unaccent'::regdictionary, $1) $$""",
        params=None,
    )
    # One line each, so a search's words are looked for within a name, never across two.
    schema_editor.execute(
        f"""ALTER TABLE cases_entity ADD COLUMN IF NOT EXISTS {COLUMN} text
        GENERATED ALWAYS AS (lower({FUNCTION}(
            name || E'\\n' || coalesce(name_native, '') || E'\\n' || aliases
        ))) STORED""",
        params=None,
    )
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON cases_entity USING gin ({COLUMN} gin_trgm_ops)",
        params=None,
    )
    # Statistics of the new column, so the planner knows a search matches few names
    # (without them it walked the list's date index, hoping to find matches early).
    schema_editor.execute("ANALYZE cases_entity", params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"ALTER TABLE cases_entity DROP COLUMN IF EXISTS {COLUMN}", params=None)
    # The extension is left installed, as pg_trgm is: other objects may use it.
    schema_editor.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}(text)", params=None)


class Migration(migrations.Migration):
    dependencies = [("cases", "0025_load_indexes")]

    operations = [migrations.RunPython(create, drop)]
