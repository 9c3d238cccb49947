"""Benchmark the referral import: generate N rows, run `import_referrals` on them in a
fresh database (fuzzy duplicate report included), then on the same file again, and print
rows per second.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test python bench/import_referrals.py 100000

A throwaway test database (test_<name>) is created and destroyed around the run.
The fuzzy duplicate report is part of the timed write, as it is in a real import.
"""

import csv
import io
import os
import random
import sys
import tempfile
import time
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wishlist.settings")
# A developer's tool, run like `make run`: DEBUG is otherwise off and needs a SECRET_KEY.
os.environ.setdefault("DEBUG", "1")

import django

django.setup()

from django.core.management import call_command
from django.db import connection

from cases.intake.files import COLUMNS
from cases.models import Case, Entity, Referral

PREFIX = " ".join(
    """Advanced Applied Global United Nordic Pacific Atlantic Alpine Quantum Digital Smart
Bio Nano Micro Geo Aero Astro Hydro Thermo Photon Vector Nova Stellar Polar Summit Crest
Harbor River Forest Granite Silver Golden Cobalt Titan Orion Apex Zenith Vertex Delta Sigma
Omega Lambda Kappa Horizon Frontier Pioneer Beacon Keystone Cornerstone Evergreen""".splitlines()
).split()
CORE = " ".join(
    """Robotics Genomics Materials Photonics Semiconductor Therapeutics Diagnostics Sensors
Batteries Optics Avionics Propulsion Analytics Vision Imaging Lasers Catalysts Polymers
Ceramics Composites Membranes Vaccines Antibodies Enzymes Peptides Drones Satellites Radar
Acoustics Microfluidics Biologics Agritech Aquaculture Seeds Fertilizers Turbines Hydrogen
Fusion Grid Storage Motors Machining Additive Welding Coatings Textiles Medical
Devices""".splitlines()
).split()
SUFFIX = " ".join(
    """Technologies Systems Labs Solutions Industries Research Group Holdings Innovations
Dynamics Works Instruments Sciences Engineering Networks Partners Ventures Devices
Laboratories Institute Corporation Enterprises Manufacturing Biotech Pharma Energy Electronics
Software Automation Instruments2 Precision Integrated Sciences2 Materials2 Global2 Micro2
International Associates Consulting Foundry""".splitlines()
).split()
KINDS = ["company"] * 8 + ["university", "research institute"]
LEGAL = ["Ltd", "Limited", "Inc.", "GmbH", "AG", "S.A.", "LLC", "Co., Ltd.", "Corp.", "plc", ""]
COUNTRIES = " ".join(
    """RU US GB JP DE FR IT ES NL BE SE FI NO DK PL CZ AT CH IE PT GR HU RO BG IL TR
AU NZ CA KR SG MY TH VN ID PH IN PK EG ZA NG KE BR AR CL MX UA BY KZ UZ""".splitlines()
).split()
FIELDS = [
    "biotechnology",
    "artificial intelligence",
    "new materials",
    "energy",
    "aerospace",
    "advanced manufacturing",
    "agriculture",
    "medical devices",
    "ict",
]
METHODS = [
    "equity purchase",
    "investment",
    "patent licence",
    "technology transfer",
    "joint venture",
    "joint R&D",
    "production in China",
    "R&D staff hiring",
]


def generate(rows: int, seed: int = 7) -> bytes:
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    names = [(p, c, s) for p in PREFIX for c in CORE for s in SUFFIX]
    rng.shuffle(names)
    for i in range(rows):
        # About one row in eight refers an entity again, sometimes spelled differently.
        if i and rng.random() < 0.12:
            p, c, s = names[rng.randrange(min(i, len(names)))]
        else:
            p, c, s = names[i % len(names)]
        name = f"{p} {c} {s} {rng.choice(LEGAL)}".strip()
        if rng.random() < 0.01:  # a misspelling the fuzzy report should catch
            name = name.replace("o", "0", 1) if "o" in name else name + "s"
        country = COUNTRIES[zlib.crc32(f"{p}{c}{s}".encode()) % len(COUNTRIES)]
        year = rng.randint(2015, 2020)
        precision = rng.random()
        if precision < 0.6:
            when = f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        elif precision < 0.9:
            when = f"{year}-{rng.randint(1, 12):02d}"
        else:
            when = str(year)
        amount = f"{rng.randint(1, 500) * 10000}" if rng.random() < 0.3 else ""
        writer.writerow(
            [
                f"B{i:07d}",
                when,
                f"Embassy in {country}"
                if rng.random() < 0.7
                else f"Consulate-General in City{rng.randint(1, 3)}",
                country,
                name,
                "",
                KINDS[zlib.crc32(f"{s}{c}{p}".encode()) % len(KINDS)],
                rng.choice(FIELDS),
                "; ".join(rng.sample(METHODS, rng.randint(1, 3))),
                amount,
                "USD" if amount else "",
                f"Synthetic benchmark row {i}",
                f"https://example.org/referral/{i}",
            ]
        )
    return out.getvalue().encode("utf-8")


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    data = generate(rows)
    print(f"database: {connection.vendor}; rows: {rows}; file: {len(data) / 1e6:.1f} MB")
    old_name = connection.settings_dict["NAME"]
    # Named after the configured database, so benchmarks of different checkouts sharing
    # one server do not drop each other's database.
    connection.settings_dict["TEST"]["NAME"] = f"{Path(str(old_name)).name}_bench"
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "referrals.csv"
            path.write_bytes(data)
            for attempt in ("first import", "same file again"):
                out = io.StringIO()
                start = time.perf_counter()
                call_command("import_referrals", str(path), stdout=out)
                elapsed = time.perf_counter() - start
                print(f"{attempt}: {elapsed:.2f} s = {rows / elapsed:,.0f} rows/s")
                print("  " + out.getvalue().splitlines()[0])
        print(
            f"in the database: {Referral.objects.count()} referrals, "
            f"{Entity.objects.count()} entities, {Case.objects.count()} cases"
        )
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
