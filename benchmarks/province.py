#!/usr/bin/env python
"""Province tier benchmark (5,000,000 persons on PostgreSQL). Not a test: it prints numbers.

    flock /tmp/bigbench.lock .venv/bin/python benchmarks/with_postgres.py benchmarks/province.py \\
        [--persons 5000000] [--students 1000000] [--import-persons 100000]

Steps, each with its wall time and the peak resident memory of this process during the step
(sampled every 0.1 s; the PostgreSQL server's memory is its own settings, dev.py):
1. build: the province's regions, households, persons, schools and enrolments generated in
   columns (NumPy/Polars) county by county and loaded with COPY (`core.bulk.insert_frame`);
   then ANALYZE. The benchmark's own data generation, measured too.
2. import: a county's Excel file through the real importer (`exchange.households.run_import`,
   validation, audit) into the full province: rows/s, and what a province of county files takes.
3. search and household page p95 through the real view stack (a province officer and a county
   officer), against a bare indexed lookup.
4. semester run of the students (compute, approve, post to the ledger through
   `funds.payments_post_frame`), then a re-run that must post nothing.
Targets: semester run ≤ 60 s for 1,000,000 students, peak memory ≤ 8 GB in every step (≤ 4 GB
for the re-run's already-paid set).
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import threading
import time
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PROVINCE = "510000000000"
STAGES = ["preschool", "primary", "junior", "senior", "sec_voc", "college"]
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈")
GIVEN = list("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍红梅建国志强文海燕")


class Peak:
    """Peak RSS of this process between start() and stop()."""

    def __init__(self):
        self.value, self._run = 0, False

    def _rss(self) -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def start(self):
        self.value, self._run = self._rss(), True
        self._t = threading.Thread(target=self._loop, daemon=True)
        self._t.start()
        return self

    def _loop(self):
        while self._run:
            self.value = max(self.value, self._rss())
            time.sleep(0.1)

    def stop(self) -> str:
        self._run = False
        self._t.join()
        self.value = max(self.value, self._rss())
        return f"peak {self.value / 2**30:.2f} GB"


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def counties(n: int) -> list[str]:
    """County codes under Sichuan (the sc-province pack); 513435 is left to step 2's county file."""
    out = []
    city, k = 1, 1
    while len(out) < n:
        code = f"51{city:02d}{k:02d}"
        if code != "513435":
            out.append(code)
        k += 1
        if k > 20:
            city, k = city + 1, 1
    return out


def ids_for(county: str, births: pl.Series) -> pl.Series:
    """Valid resident ID numbers: county, birth date, a sequence within (county, birth date), check digit."""
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    f = pl.DataFrame({"b": births}).with_row_index("i").with_columns(
        pl.col("i").cum_count().over("b").alias("seq"))
    body = pl.lit(county) + pl.col("b").dt.strftime("%Y%m%d") + pl.col("seq").cast(pl.String).str.zfill(3)
    f = f.with_columns(body.alias("body"))
    total = sum(pl.col("body").str.slice(i, 1).cast(pl.Int32) * w for i, w in enumerate(weights))
    return f.select(pl.col("body") + (total % 11).replace_strict({i: c for i, c in enumerate("10X98765432")},
                                                                  return_dtype=pl.String)).to_series()


def build(persons: int, students: int, n_counties: int, seed: int = 5) -> dict:
    """The province, county by county, with COPY. Returns what the later steps need."""
    from django.db import connection, transaction

    from fupin.core.bulk import insert_frame
    from fupin.core.models import Region
    from fupin.education.models import Enrolment, School
    from fupin.registry.models import Household, Person

    rng = np.random.default_rng(seed)
    codes = counties(n_counties)
    per_county = persons // n_counties
    students_per_county = students // n_counties
    today = dt.date(2024, 9, 1)
    regions = [(PROVINCE, "四川省", 1, None)]
    cities = sorted({c[:4] for c in codes})
    regions += [(f"{c}00000000", f"第{i + 1}市州", 2, PROVINCE) for i, c in enumerate(cities)]
    hh_id = person_id = school_id = enrol_id = 0
    villages_of = {}
    for ci, county in enumerate(codes):
        regions.append((f"{county}000000", f"第{ci + 1}县", 3, f"{county[:4]}00000000"))
        vs = []
        for t in range(10):
            town = f"{county}{100 + t:03d}000"
            regions.append((town, f"第{t + 1}乡镇", 4, f"{county}000000"))
            for v in range(15):
                vs.append(f"{county}{100 + t:03d}{200 + v:03d}")
                regions.append((vs[-1], f"第{v + 1}村", 5, town))
        villages_of[county] = vs
    with transaction.atomic():
        insert_frame(Region, pl.DataFrame(regions, orient="row", schema=[("code", pl.String), ("name", pl.String),
                                                                        ("level", pl.Int64), ("parent_id", pl.String)])
                     .with_columns(pl.lit(dt.date(2024, 1, 1)).alias("valid_from")))
    with connection.cursor() as cur:
        # generated data is consistent by construction: its foreign keys are not checked row by row
        # (a trigger per row; the throwaway cluster's superuser may switch them off). The real
        # importer, with every check, is measured in step 2.
        cur.execute("SET session_replication_role = replica")
        # and, as for any bulk load, the non-unique indexes are built once at the end instead of
        # row by row (unique ones stay: they are constraints)
        tables = [m._meta.db_table for m in (Household, Person, School, Enrolment)]
        cur.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) "
                    "AND indexdef NOT LIKE 'CREATE UNIQUE%%'", [tables])
        later = cur.fetchall()
        for name, _ in later:
            cur.execute(f'DROP INDEX "{name}"')
    for county in codes:
        vs = np.array(villages_of[county])
        # households of 1–6 persons (mean ≈ 3.5) until the county has its persons
        sizes = rng.choice([1, 2, 3, 4, 5, 6], size=per_county // 2, p=[.08, .17, .25, .25, .15, .10])
        sizes = sizes[:int(np.searchsorted(np.cumsum(sizes), per_county)) + 1]
        sizes[-1] -= int(sizes.sum() - per_county)
        sizes = sizes[sizes > 0]
        nh, n = len(sizes), int(sizes.sum())
        hids = np.arange(hh_id + 1, hh_id + nh + 1)
        status = np.array(["registered", "exited", "monitored", "eliminated"])[rng.choice(4, nh, p=[.2, .6, .15, .05])]
        households = pl.DataFrame({
            "id": hids, "number": [f"{county}{i:08d}" for i in range(1, nh + 1)],
            "village_id": vs[rng.integers(0, len(vs), nh)], "standard": "national",
            "attribute": np.array(["general", "dibao", "tekun"])[rng.choice(3, nh, p=[.85, .12, .03])],
            "main_cause": np.array(["illness", "disability", "schooling"])[rng.integers(0, 3, nh)],
            "status": status, "status_since": dt.date(2019, 12, 31), "bank_name": "农村信用社"})
        first = np.zeros(n, dtype=bool)
        first[np.concatenate([[0], np.cumsum(sizes)[:-1]])] = True
        births = (np.datetime64("1940-01-01") + rng.integers(0, 365 * 80, n)).astype("datetime64[D]")
        births_s = pl.Series("b", births).cast(pl.Date)
        id_numbers = ids_for(county, births_s)
        sex = np.array(["M", "F"])[rng.integers(0, 2, n)]
        name = np.char.add(np.array(SURNAMES)[rng.integers(0, len(SURNAMES), n)],
                           np.char.add(np.array(GIVEN)[rng.integers(0, len(GIVEN), n)],
                                       np.where(rng.random(n) < 0.6, np.array(GIVEN)[rng.integers(0, len(GIVEN), n)], "")))
        pids = np.arange(person_id + 1, person_id + n + 1)
        people = pl.DataFrame({
            "id": pids, "household_id": np.repeat(hids, sizes), "name": name, "sex": sex, "id_number": id_numbers,
            "birth_date": births_s, "relation": np.where(first, "head", np.array(["spouse", "child", "parent"])[rng.integers(0, 3, n)]),
            "labour": "ordinary",
            "assistance": np.array(["none", "dibao", "tekun"])[rng.choice(3, n, p=[.9, .08, .02])],
        }).with_columns(pl.col("id_number").str.reverse().alias("id_reversed"))
        school_ids = np.arange(school_id + 1, school_id + len(vs) + 1)
        schools = pl.DataFrame({"id": school_ids, "code": [f"S{county}{i:04d}" for i in range(len(vs))],
                                "name": [f"第{i + 1}学校" for i in range(len(vs))], "region_id": vs})
        pick = np.sort(rng.choice(n, size=min(students_per_county, n), replace=False))
        k = len(pick)
        enrolments = pl.DataFrame({
            "id": np.arange(enrol_id + 1, enrol_id + k + 1), "person_id": pids[pick],
            "school_id": school_ids[rng.integers(0, len(vs), k)], "semester": "2024-autumn",
            "stage": np.array(STAGES)[rng.integers(0, len(STAGES), k)], "grade": rng.integers(1, 4, k),
            "boarding": rng.random(k) < 0.35, "status": "enrolled", "fee": rng.integers(0, 300_000, k)})
        with transaction.atomic():
            insert_frame(Household, households)
            insert_frame(Person, people)
            insert_frame(School, schools)
            insert_frame(Enrolment, enrolments)
        hh_id, person_id, school_id, enrol_id = hh_id + nh, person_id + n, school_id + len(vs), enrol_id + k
    with connection.cursor() as cur:
        cur.execute("SET session_replication_role = DEFAULT")
        cur.execute("SET maintenance_work_mem = '1GB'")
        for _, definition in later:
            cur.execute(definition)
        for model in (Household, Person, School, Enrolment):
            table = model._meta.db_table
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        cur.execute("ANALYZE")
    return dict(codes=codes, households=hh_id, persons=person_id, students=enrol_id, today=today,
                villages=[v for vs in villages_of.values() for v in vs])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=5_000_000)
    ap.add_argument("--students", type=int, default=1_000_000)
    ap.add_argument("--counties", type=int, default=60)
    ap.add_argument("--import-persons", type=int, default=100_000)
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--database-url", default="")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from benchsetup import django_setup, signed_in_client

    rows_cap = max(args.import_persons + 1000, 80000)
    django_setup(args.database_url, FUPIN_IMPORT_MAX_ROWS=str(rows_cap), FUPIN_IMPORT_MAX_CELLS=str(rows_cap * 60))
    from django.db import connection
    from django.utils import timezone

    from fupin.core.models import User
    from fupin.registry.models import Household, Person

    if connection.vendor != "postgresql":
        sys.exit("the province tier is PostgreSQL: run through benchmarks/with_postgres.py or give --database-url")
    with connection.cursor() as cur:
        cur.execute("SELECT name, setting, unit FROM pg_settings WHERE name IN ('shared_buffers', 'work_mem', "
                    "'maintenance_work_mem', 'max_wal_size', 'jit', 'synchronous_commit', 'effective_cache_size')")
        server = ", ".join(f"{n}={s}{u or ''}" for n, s, u in cur.fetchall())
    print(f"PostgreSQL settings: {server}")
    print(f"province: {args.persons:,} persons in {args.counties} counties, {args.students:,} students; "
          f"{os.cpu_count()} cores (shared machine: timings pessimistic)")

    # 1. build ----------------------------------------------------------------------------------
    peak = Peak().start()
    t = time.perf_counter()
    world = build(args.persons, args.students, args.counties)
    print(f"1. BUILD   {world['persons']:,} persons / {world['households']:,} households / {world['students']:,} "
          f"enrolments generated and COPY-loaded in {time.perf_counter() - t:.0f} s "
          f"({world['persons'] / (time.perf_counter() - t):,.0f} persons/s), {peak.stop()}")

    officer = User.objects.create(username="prov", role="county_officer", region_id=PROVINCE,
                                  password_changed_at=timezone.now())
    county_user = User.objects.create(username="cty", role="county_officer", region_id=f"{world['codes'][1]}000000",
                                      password_changed_at=timezone.now())

    # 2. import of a county file through the real importer ----------------------------------------
    if args.import_persons:
        from fupin.demo import generator
        from fupin.exchange import households as hx

        county = generator.generate(args.import_persons, living=True)   # county 513435's generator villages
        generator.seed_regions(county)
        admin = User.objects.create(username="adm", role="county_admin", region_id=generator.COUNTY[0],
                                    password_changed_at=timezone.now())
        path = Path(os.environ["FUPIN_VAR_DIR"]) / "county.xlsx"
        rows = generator.write_workbook(county, path)
        data = path.read_bytes()
        peak = Peak().start()
        t = time.perf_counter()
        report = hx.run_import(admin, data, "county.xlsx", initial_load=True)
        took = time.perf_counter() - t
        if not report.ok:
            print("   import problems:", [str(p) for p in report.problems[:5]])
        print(f"2. IMPORT  one county file of {rows:,} rows into the province in {took:.0f} s = {rows / took:,.0f} rows/s, "
              f"{peak.stop()}; {'ok' if report.ok else 'REFUSED'}. A province's {args.persons:,} persons as "
              f"{args.counties} county files, 2 importers at once (one per core): ≈ "
              f"{args.persons / (rows / took) / 2 / 60:.0f} min (extrapolated from this rate, not measured)")

    # 3. search and household page ----------------------------------------------------------------
    rng = random.Random(1)
    sample = list(Person.objects.filter(pk__in=[rng.randint(1, world["persons"]) for _ in range(2000)])
                  .values_list("name", "id_number", "household__village_id"))
    hids = [rng.randint(1, world["households"]) for _ in range(args.samples)]
    for label, user in (("province officer", officer), ("county officer", county_user)):
        c = signed_in_client(user)
        c.get("/households/", {"q": "王"})
        peak = Peak().start()
        search, detail = [], []
        for i in range(args.samples):
            name, pid, village = rng.choice(sample)
            if label == "county officer":
                village = rng.choice([v for v in world["villages"] if v.startswith(world["codes"][1])])
            q = {0: {"q": name[:2]}, 1: {"q": pid[-4:]}, 2: {"q": pid},
                 3: {"status": "monitored", "cause": "illness", "region": village},
                 4: {"q": name[:1], "status": "registered"}}[i % 5]
            send = c.post if i % 5 == 2 else c.get
            t = time.perf_counter()
            r = send("/households/", q)
            search.append(time.perf_counter() - t)
            assert r.status_code == 200, r.status_code
        for pk in hids:
            if label == "county officer":
                continue
            t = time.perf_counter()
            r = c.get(f"/households/{pk}/")
            detail.append(time.perf_counter() - t)
            assert r.status_code == 200, r.status_code
        print(f"3. SEARCH  {label}: p50 {pct(search, 50) * 1000:.0f} ms, p95 {pct(search, 95) * 1000:.0f} ms (target ≤ 150 ms)"
              + (f"; HOUSEHOLD PAGE p50 {pct(detail, 50) * 1000:.0f} ms, p95 {pct(detail, 95) * 1000:.0f} ms "
                 f"(target ≤ 100 ms)" if detail else "") + f", {peak.stop()}")
    base = []
    with connection.cursor() as cur:
        for _ in range(args.samples):
            t = time.perf_counter()
            cur.execute("SELECT household_id FROM registry_person WHERE id_number = %s", [rng.choice(sample)[1]])
            cur.fetchall()
            base.append(time.perf_counter() - t)
    print(f"   baseline bare indexed lookup p50 {statistics.median(base) * 1e6:.0f} µs")

    # 4. semester run -------------------------------------------------------------------------------
    semester_run(world)


def semester_run(world):
    from django.utils import timezone

    from fupin.core.models import User
    from fupin.education import services
    from fupin.funds import services as funds

    a = User.objects.create(username="a", role="school_aid", region_id=PROVINCE, password_changed_at=timezone.now())
    b = User.objects.create(username="b", role="county_officer", region_id=PROVINCE, password_changed_at=timezone.now())
    budget = funds.budget_create(actor=b, code="edu-2024", name="教育资助2024", source="central", programme="education",
                                 year=2024, region=PROVINCE)
    funds.budget_allocate(actor=b, budget=budget, amount=10 ** 14, date=dt.date(2024, 8, 1), decision_id="川财教〔2024〕1号")
    peak = Peak().start()
    t0 = time.perf_counter()
    run = services.run_compute(actor=a, semester="2024-autumn", region_code=PROVINCE, budget=budget)
    t1 = time.perf_counter()
    compute_peak = peak.stop()
    services.run_approve(actor=b, run_id=run.pk)
    peak = Peak().start()
    t2 = time.perf_counter()
    services.run_post(actor=b, run_id=run.pk, date=dt.date(2024, 9, 30))
    t3 = time.perf_counter()
    print(f"4. SEMESTER RUN {world['students']:,} students → {run.lines_count:,} lines, {run.total / 100:,.2f} yuan: "
          f"compute {t1 - t0:.1f} s ({compute_peak}) + post {t3 - t2:.1f} s ({peak.stop()}) = {t1 - t0 + t3 - t2:.1f} s "
          f"(target ≤ 60 s)")
    peak = Peak().start()
    t = time.perf_counter()
    again = services.run_compute(actor=a, semester="2024-autumn", region_code=PROVINCE, budget=budget)
    print(f"   RE-RUN of the same semester: {again.lines_count} lines to pay (must be 0), "
          f"{time.perf_counter() - t:.1f} s, {peak.stop()} (target ≤ 4 GB)")
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT count(*), coalesce(sum(amount), 0) FROM funds_entry")
        n, total = cur.fetchone()
    print(f"   ledger: {n:,} entries summing to {total} (must be 0: every transaction balances)")


if __name__ == "__main__":
    main()
