"""Reading the suite's CSV downloads: a byte order mark (downloads are opened in
spreadsheets), a leading block of "# " lines (the download's metadata: filters,
extraction time, code version, definitions), then the table. Command output has no BOM;
both read the same here, as with encoding="utf-8-sig"."""

import csv
import io

BOM = "\ufeff"


def split_metadata(text: str) -> tuple[list[str], str]:
    """The comment lines (without "# ") and the CSV text after them."""
    lines = text.removeprefix(BOM).splitlines(keepends=True)
    count = 0
    while count < len(lines) and lines[count].startswith("# "):
        count += 1
    return [line[2:].rstrip("\r\n") for line in lines[:count]], "".join(lines[count:])


def table(text: str) -> list[list[str]]:
    """The CSV rows of a download, header first, its metadata block skipped."""
    return list(csv.reader(io.StringIO(split_metadata(text)[1])))


def metadata(text: str) -> dict[str, str]:
    """The "key: value" lines of a download's metadata block (the title line apart)."""
    comments, _ = split_metadata(text)
    return dict(line.split(": ", 1) for line in comments if ": " in line)
