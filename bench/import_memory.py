"""Measure the peak memory of reading and checking hostile and large referral files: a
CSV of about 100 MB (100,000 rows with long summaries) and the 1 MB and 4 MB zip bombs of
the tests. Each file is read in a child process of its own, whose peak resident size
(VmHWM: ru_maxrss would carry over the parent's peak through fork and exec) is taken;
the median of the runs is printed with the size before reading.

    python bench/import_memory.py [runs]

No database is needed: reading and checking the rows happens before anything is written.
"""

import csv
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wishlist.settings")


def _big_csv(path: Path) -> None:
    """The import benchmark's 100,000 rows, each summary grown to about 800 characters."""
    sys.path.insert(0, str(ROOT / "bench"))
    import import_referrals

    rows = csv.reader(io.StringIO(import_referrals.generate(100_000).decode()))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(next(rows))
    filler = "Discussed a stake, a licence and two engineers, at length. " * 13
    for number, cells in enumerate(rows):
        cells[11] = f"{cells[11]}: {filler[: 780 + number % 40]}"
        writer.writerow(cells)
    path.write_bytes(out.getvalue().encode())


def _bomb(path: Path, compressed_mb: int) -> None:
    from tests.intake.hostile import zip_bomb

    path.write_bytes(zip_bomb(compressed_mb))


def _peak_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status (Linux only)")


def child(path: str) -> None:
    """Read and check one file; print the peak resident size before and after (KiB)."""
    import django

    django.setup()
    from cases.intake.files import ImportFileError, read_table
    from cases.intake.rows import check_rows

    data = Path(path).read_bytes()
    before = _peak_kib()
    start = time.perf_counter()
    try:
        checked = check_rows(read_table(data, Path(path).name))
        outcome = f"{checked.rows_read} rows read, {len(checked.errors)} errors"
    except ImportFileError as exc:
        outcome = f"refused: {str(exc)[:70]}"
    elapsed = time.perf_counter() - start
    after = _peak_kib()
    print(before, after, f"{elapsed:.3f}", outcome, sep="\t")


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    with tempfile.TemporaryDirectory() as folder:
        files = {
            "CSV, 100,000 rows": Path(folder) / "referrals.csv",
            "zip bomb, 1 MB": Path(folder) / "bomb-1.xlsx",
            "zip bomb, 4 MB": Path(folder) / "bomb-4.xlsx",
        }
        _big_csv(files["CSV, 100,000 rows"])
        _bomb(files["zip bomb, 1 MB"], 1)
        _bomb(files["zip bomb, 4 MB"], 4)
        print(f"{'file':<20} {'size':>9} {'before':>9} {'peak':>9} {'read':>9}  outcome")
        for name, path in files.items():
            results = []
            for _ in range(runs):
                line = subprocess.run(
                    [sys.executable, __file__, "--child", str(path)],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout.strip()
                before, after, elapsed, outcome = line.split("\t")
                results.append((int(before), int(after), float(elapsed), outcome))
            before = statistics.median(r[0] for r in results) / 1024
            peak = statistics.median(r[1] for r in results) / 1024
            elapsed = statistics.median(r[2] for r in results)
            size = path.stat().st_size / 1e6
            print(
                f"{name:<20} {size:>6.1f} MB {before:>6.0f} MB {peak:>6.0f} MB "
                f"{elapsed:>7.2f} s  {results[0][3]}"
            )
    print("before: peak resident size with Django set up and the file's bytes in memory;")
    print(f"peak: after reading and checking every row (median of {runs} runs)")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2])
    else:
        main()
