#!/usr/bin/env python
"""Oversight board benchmark (issue 15, "Speed"). Not a test: it prints numbers and ratios.

    .venv/bin/python benchmarks/board.py [--persons 200000] [--samples 30] [--live-samples 3] [--database-url URL]
    .venv/bin/python benchmarks/with_postgres.py benchmarks/board.py --persons 200000
    .venv/bin/python benchmarks/with_postgres.py benchmarks/board.py --persons 5000000 --counties 50

With `--counties K` (PostgreSQL) the demo generator makes one county of persons/K and SQL copies
its registry (regions, households, persons, incomes, guarantees) into K-1 further counties of ten
more cities of the same province, codes and ID numbers re-prefixed: a province of `--persons`
in minutes. Only the registry is copied (visits, ledger, problems stay in the first county).

In one run it seeds a county with the demo generator (fupin/demo/generator.py) and measures:
- the pre-aggregation of every indicator (`manage.py oversight_refresh`, the nightly job);
- p50/p95 of the county board and of a township board through the real view stack (Django
  test client signed in as the county officer, second factor passed), reading the
  pre-aggregated numbers;
- the same county board counted live (`?live=1`);
- the province board (a province-level officer), reading the pre-aggregated numbers;
against a baseline measured on the same database in the same run: one bare
`SELECT count(*) FROM registry_person`.
Targets (2-core machine): county board p95 ≤ 300 ms at 200,000 persons; province board ≤ 2 s at
5,000,000 persons on PostgreSQL.
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


def clone_counties(base: str, k: int) -> list[str]:
    """Copy the registry of county `base` (regions, households, persons, incomes, guarantees) into
    k more counties of the same province, in one INSERT … SELECT per table (PostgreSQL). The copies'
    codes, household numbers and ID numbers take the new county's six digits; the loading session
    skips the per-row foreign-key triggers (the rows are consistent by construction)."""
    from django.db import connection, transaction

    from fupin.core.models import Region
    from fupin.registry.models import Guarantee, Household, Income, Person

    province = Region.objects.get(code=base[:2] + "0000000000")
    prefixes, cities = [], []
    for i in range(k):
        city = f"{base[:2]}{1 + i // 5:02d}"
        if city == base[:4]:
            city = f"{base[:2]}{90 + i // 5:02d}"
        prefixes.append(f"{city}{1 + i % 5:02d}")
        if not cities or cities[-1] != city:
            cities.append(city)
    Region.objects.bulk_create([Region(code=c + "00000000", name=f"市{c}", level=2, parent=province) for c in cities])
    q = connection.ops.quote_name

    def cols(model, skip=()):
        return [f.column for f in model._meta.concrete_fields if not f.primary_key and f.column not in skip]

    def insert(model, select_cols: dict, source: str):
        names = list(select_cols)
        connection.cursor().execute(
            f"INSERT INTO {q(model._meta.db_table)} ({', '.join(q(c) for c in names)}) "
            f"SELECT {', '.join(select_cols[c] for c in names)} {source}")

    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET LOCAL session_replication_role = replica")
        cur.execute("CREATE TEMPORARY TABLE clone_prefix (p text) ON COMMIT DROP")
        cur.execute("INSERT INTO clone_prefix SELECT unnest(%s::text[])", [prefixes])
        region_cols = {c: f"r.{q(c)}" for c in cols(Region)}
        region_cols |= {"code": "c.p || substr(r.code, 7)",
                        "parent_id": "CASE WHEN r.level = 3 THEN substr(c.p, 1, 4) || '00000000' "
                                     "ELSE c.p || substr(r.parent_id, 7) END",
                        "name": "CASE WHEN r.level = 3 THEN '县' || c.p ELSE r.name END"}
        insert(Region, region_cols, f"FROM core_region r CROSS JOIN clone_prefix c "
                                    f"WHERE r.code LIKE '{base[:6]}%%' AND r.level >= 3")
        hh = {c: f"h.{q(c)}" for c in cols(Household)}
        hh |= {"number": "c.p || substr(h.number, 7)", "village_id": "c.p || substr(h.village_id, 7)"}
        insert(Household, hh, f"FROM registry_household h CROSS JOIN clone_prefix c "
                              f"WHERE h.village_id LIKE '{base[:6]}%%'")
        cur.execute("ANALYZE registry_household")
        join = (f"JOIN registry_household oh ON x.household_id = oh.id AND oh.village_id LIKE '{base[:6]}%%' "
                "CROSS JOIN clone_prefix c JOIN registry_household nh ON nh.number = c.p || substr(oh.number, 7)")
        person = {c: f"x.{q(c)}" for c in cols(Person)}
        person |= {"household_id": "nh.id", "id_number": "c.p || substr(x.id_number, 7)",
                   "id_reversed": "reverse(c.p || substr(x.id_number, 7))"}
        insert(Person, person, f"FROM registry_person x {join}")
        for model in (Income, Guarantee):
            insert(model, {c: f"x.{q(c)}" for c in cols(model)} | {"household_id": "nh.id"},
                   f"FROM {model._meta.db_table} x {join}")
        cur.execute("SET LOCAL session_replication_role = origin")
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    return [p + "000000" for p in prefixes]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=200_000)
    ap.add_argument("--samples", type=int, default=30, help="requests per board page (p50/p95 over these)")
    ap.add_argument("--live-samples", type=int, default=3, help="requests of the live-counted board (slow)")
    ap.add_argument("--counties", type=int, default=1,
                    help="spread --persons over this many counties (copies of the first; PostgreSQL)")
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
    county = generator.generate(args.persons // args.counties)
    generator.seed_database(county)
    print(f"seeded {len(county.households)} households / {county.person_count} persons "
          f"in {time.perf_counter() - t:.1f} s (not measured)", flush=True)
    if args.counties > 1:
        from fupin.registry.models import Household, Person

        t = time.perf_counter()
        clone_counties(generator.COUNTY[0], args.counties - 1)
        print(f"copied into {args.counties - 1} more counties: {Household.objects.count():,} households / "
              f"{Person.objects.count():,} persons in {time.perf_counter() - t:.1f} s (not measured)", flush=True)
    year = timezone.localdate().year
    code = generator.COUNTY[0]
    township = next(r[0] for r in county.regions if r[2] == 4)

    user = User.objects.create(username="bench", role="county_officer", region_id=code,
                               password_changed_at=timezone.now())
    c = signed_in_client(user)
    province = generator.PROVINCE[0]
    provincial = User.objects.create(username="bench-province", role="county_officer", region_id=province,
                                     password_changed_at=timezone.now())
    pc = signed_in_client(provincial)

    def timed(url, n, client=c):
        r = client.get(url)  # warm-up, not counted
        assert r.status_code == 200, (url, r.status_code)
        out = []
        for _ in range(n):
            t = time.perf_counter()
            r = client.get(url)
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
    province_url = f"/oversight/{province}/?year={year}"
    queries = []

    def count_query(execute, sql, params, many, context):
        t = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            queries.append((time.perf_counter() - t, sql))

    for label, url, client in (("province", province_url, pc), ("county", county_url, c)):
        queries.clear()
        with connection.execute_wrapper(count_query):
            t = time.perf_counter()
            r = client.get(url)
            whole = time.perf_counter() - t
        assert r.status_code == 200, r.status_code
        slow = sorted(queries, reverse=True)[:3]
        print(f"{label} board once: {ms(whole)}, {len(queries)} queries taking {ms(sum(q[0] for q in queries))}; "
              "slowest: " + " | ".join(f"{ms(d)} {sql[:90]}" for d, sql in slow), flush=True)
    r = pc.get(province_url)
    assert r.status_code == 200 and r.context["counted_at"] is not None, "the province board is not pre-counted"
    for label, url, n, target, client in (
            ("COUNTY   board", county_url, args.samples, " (target p95 ≤ 300 ms)", c),
            ("TOWNSHIP board", township_url, args.samples, "", c),
            ("PROVINCE board", province_url, args.samples, " (target ≤ 2 s at 5,000,000 persons)", pc),
            ("COUNTY   board live (?live=1)", county_url + "&live=1", args.live_samples, "", c)):
        ts = timed(url, n, client)
        print(f"{label}: n={n} p50 {ms(pct(ts, 50))}  p95 {ms(pct(ts, 95))}{target} | "
              f"ratio p50 to bare count: {pct(ts, 50) / b50:,.1f}×", flush=True)
    print(f"queries per county board (pre-aggregated): {len(queries)}")


if __name__ == "__main__":
    main()
