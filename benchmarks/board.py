#!/usr/bin/env python
"""Oversight board benchmark (issue 15, "Speed"). Not a test: it prints numbers and ratios.

    .venv/bin/python benchmarks/board.py [--persons 200000] [--samples 30] [--live-samples 3] [--database-url URL]
    .venv/bin/python benchmarks/with_postgres.py benchmarks/board.py --persons 200000

In one run it seeds a county with the demo generator (fupin/demo/generator.py) and measures:
- the pre-aggregation of every indicator (`manage.py oversight_refresh`, the nightly job);
- p50/p95 of the county board and of a township board through the real view stack (Django
  test client signed in as the county officer, second factor passed), reading the
  pre-aggregated numbers;
- the same county board counted live (`?live=1`);
against a baseline measured on the same database in the same run: one bare
`SELECT count(*) FROM registry_person`.
Target (2-core machine): county board p95 ≤ 300 ms at 200,000 persons.
"""
from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def ms(seconds):
    return f"{seconds * 1000:.1f} ms"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=200_000)
    ap.add_argument("--samples", type=int, default=30, help="requests per board page (p50/p95 over these)")
    ap.add_argument("--live-samples", type=int, default=3, help="requests of the live-counted board (slow)")
    ap.add_argument("--database-url", default="")
    args = ap.parse_args()
    from benchsetup import django_setup, signed_in_client

    django_setup(args.database_url)
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from fupin.core.models import User
    from fupin.demo import generator

    print(f"database: {connection.vendor}; persons requested: {args.persons}")

    t = time.perf_counter()
    county = generator.generate(args.persons)
    generator.seed_database(county)
    print(f"seeded {len(county.households)} households / {county.person_count} persons "
          f"in {time.perf_counter() - t:.1f} s (not measured)", flush=True)
    year = timezone.localdate().year
    code = generator.COUNTY[0]
    township = next(r[0] for r in county.regions if r[2] == 4)

    user = User.objects.create(username="bench", role="county_officer", region_id=code,
                               password_changed_at=timezone.now())
    c = signed_in_client(user)

    def timed(url, n):
        r = c.get(url)  # warm-up, not counted
        assert r.status_code == 200, (url, r.status_code)
        out = []
        for _ in range(n):
            t = time.perf_counter()
            r = c.get(url)
            out.append(time.perf_counter() - t)
            assert r.status_code == 200, (url, r.status_code)
        return out

    # -- baseline: one bare count over persons, same database, same run --------------------------
    base = []
    with connection.cursor() as cur:
        for _ in range(max(args.samples, 30)):
            t = time.perf_counter()
            cur.execute("SELECT count(*) FROM registry_person")
            cur.fetchall()
            base.append(time.perf_counter() - t)
    b50 = statistics.median(base)
    print(f"\nBASELINE bare SELECT count(*) FROM registry_person: p50 {ms(b50)}  p95 {ms(pct(base, 95))}")

    # -- pre-aggregation ------------------------------------------------------------------------------
    t = time.perf_counter()
    call_command("oversight_refresh", year=year, stdout=io.StringIO())
    refresh = time.perf_counter() - t
    print(f"REFRESH  oversight_refresh (every indicator of every region, year {year}): {refresh:.1f} s "
          f"| ratio to bare count p50: {refresh / b50:,.0f}×", flush=True)

    # -- board pages ----------------------------------------------------------------------------------
    county_url = f"/oversight/{code}/?year={year}"
    township_url = f"/oversight/{township}/?year={year}"
    queries = []

    def count_query(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count_query):
        r = c.get(county_url)
    assert r.status_code == 200, r.status_code
    for label, url, n, target in (("COUNTY   board", county_url, args.samples, " (target p95 ≤ 300 ms)"),
                                  ("TOWNSHIP board", township_url, args.samples, ""),
                                  ("COUNTY   board live (?live=1)", county_url + "&live=1", args.live_samples, "")):
        ts = timed(url, n)
        print(f"{label}: n={n} p50 {ms(pct(ts, 50))}  p95 {ms(pct(ts, 95))}{target} | "
              f"ratio p50 to bare count: {pct(ts, 50) / b50:,.1f}×", flush=True)
    print(f"queries per county board (pre-aggregated): {len(queries)}")


if __name__ == "__main__":
    main()
