"""The text report of an import (`cases.intake.report.format_report`), as the command and
the admin show it."""

from cases.intake.files import read_table
from cases.intake.report import format_report
from cases.intake.rows import RowError, check_rows
from cases.intake.selectors import PossibleDuplicate
from cases.intake.services import ImportResult


def test_a_refused_file_lists_only_its_problems():
    result = ImportResult(
        rows_read=3,
        errors=[RowError(2, "host_country", "missing"), RowError(0, "", "the file is empty")],
    )

    assert format_report(result) == [
        "2 problem(s); nothing was written:",
        "  line 2, column host_country: missing",
        "  file: the file is empty",
    ]


def test_a_written_file_reports_its_counts_warnings_and_possible_duplicates():
    result = ImportResult(
        rows_read=4,
        repeated_rows=1,
        posts_created=1,
        entities_created=2,
        cases_created=2,
        referrals_created=3,
        aliases_added=1,
        warnings=["line 3: kept the stored kind"],
        duplicates=[
            PossibleDuplicate(1, "Acme Robotic Ltd", 2, "Acme Robotics", "GB", 93.4, "keys")
        ],
    )

    assert format_report(result) == [
        "Read 4 row(s); created 3 referral(s), 2 entit(y/ies), 2 case(s), 1 post(s); "
        "0 referral(s) already stored unchanged; 1 repeated row(s) skipped.",
        "1 new spelling(s) of stored entities kept as aliases.",
        "Warning: line 3: kept the stored kind",
        "1 possible duplicate entit(y/ies), not merged; merge them or mark them not the same "
        "on the possible-duplicates page:",
        "  'Acme Robotic Ltd' looks like 'Acme Robotics' (GB, score 93: keys)",
    ]


def test_a_dry_run_says_what_it_would_create_and_that_nothing_was_written():
    lines = format_report(ImportResult(rows_read=1, referrals_created=1, dry_run=True))

    assert lines[0].startswith("Read 1 row(s); would create 1 referral(s),")
    assert lines[-1] == "Dry run: nothing was written."


def test_a_file_already_stored_says_there_is_nothing_to_change():
    lines = format_report(ImportResult(rows_read=2, referrals_unchanged=2))

    assert "Nothing to change: every referral in the file is already stored." in lines


def test_invisible_characters_removed_from_a_file_are_listed_as_warnings(tmp_path):
    path = tmp_path / "referrals.csv"
    path.write_text(
        "referral_id,referral_date,host_country,entity_name\r\n"
        "R-1,2017,Japan,Kyoto Robotics\r\n"
        "R-2,2017,Japan,\u202eOsaka\u200b Optics\r\n",
        encoding="utf-8",
    )
    checked = check_rows(read_table(path.read_bytes(), path.name))

    lines = format_report(ImportResult(rows_read=2, referrals_created=2, warnings=checked.warnings))

    assert "Warning: line 3: removed 2 invisible control characters from entity_name" in lines
