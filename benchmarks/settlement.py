#!/usr/bin/env python
"""Settlement benchmark (issue 5). Not a test: prints numbers and ratios measured in one run.

    .venv/bin/python benchmarks/settlement.py [--claims 1000000] [--http-claims 2000] [--no-http]

1. Single-claim computation p50 (target ≤ 0.5 ms), against the same claim through the
   JSON layer the window and CLI use.
2. Re-settling N claims in batch (vectorised, each patient's accumulators carried in claim
   order), target ≤ 5 s, and a sample of patients settled one by one must give identical results.
3. The REST settle endpoint on PostgreSQL under 8 concurrent clients: throughput and p95
   (target ≤ 50 ms), then a check that the accumulators and the ledger match the claims exactly.
   Starts a throwaway PostgreSQL cluster (as `dev.py test` does) and a threaded server.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import polars as pl  # noqa: E402

from fupin.policy.engine import run_case  # noqa: E402
from fupin.policy.money import max_fen  # noqa: E402  (balances as large as an amount may be)
from fupin.policy.packs import PackSet  # noqa: E402
from fupin.policy.rules import health  # noqa: E402

CLAIM = {"region": "990101000000", "discharge_date": "2024-06-01", "visit_type": "inpatient", "level": "county",
         "in_county": True, "referred": False, "categories": ["dibao", "registered_poor"],
         "total": "100000.00", "in_policy": "90000.00", "waivable": "200.00",
         "ytd": {"basic": "0", "ci_base": "0", "ci": "0", "assistance": "0", "topup": {"wsfp": "0", "yyax": "0"}},
         "fund_balances": {"wsfp": "1000000.00", "yyax": "1000000.00"}}


def claims_frame(n: int, seed: int = 3) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    patients = rng.integers(0, max(1, n // 3), n)
    total = rng.integers(50_000, 30_000_000, n)
    in_policy = total * rng.integers(60, 100, n) // 100
    return pl.DataFrame({
        "patient": patients, "seq": np.arange(n), "region": np.full(n, "990101000000"),
        "discharge_date": np.full(n, np.datetime64("2024-06-01")).astype("datetime64[D]"),
        "visit_type": np.full(n, "inpatient"), "level": np.full(n, "county"),
        "in_county": rng.random(n) < 0.9, "referred": rng.random(n) < 0.3,
        "tekun": rng.random(n) < 0.05, "dibao": rng.random(n) < 0.3, "registered_poor": rng.random(n) < 0.7,
        "monitored": rng.random(n) < 0.1, "total": total, "in_policy": in_policy,
        "waivable": in_policy * rng.integers(0, 3, n) // 100,
        "balance.wsfp": np.full(n, max_fen()), "balance.yyax": np.full(n, max_fen()),
    }).with_columns(pl.col("discharge_date").cast(pl.Date),
                    pl.col("visit_type").cast(pl.Enum(list(health.VISITS))), pl.col("level").cast(pl.Enum(list(health.LEVELS))))


def part_1_and_2(n: int):
    chain = PackSet.shipped().chain("shili-2024")
    model = health.model_for(chain, dt.date(2024, 6, 1))
    case = health.claim_to_case(CLAIM, ("wsfp", "yyax"))
    case["discharge_date"] = dt.date(2024, 6, 1)
    for _ in range(200):
        run_case(model, case, chain)
    lat = []
    for _ in range(3000):
        t = time.perf_counter()
        run_case(model, case, chain)
        lat.append(time.perf_counter() - t)
    layer = []
    for _ in range(1000):
        t = time.perf_counter()
        health.settle(chain, CLAIM)
        layer.append(time.perf_counter() - t)
    p50, l50 = statistics.median(lat), statistics.median(layer)
    print(f"1. single claim: p50 {p50 * 1000:.3f} ms, p95 {sorted(lat)[int(len(lat) * .95)] * 1000:.3f} ms "
          f"(target p50 ≤ 0.5 ms) | with the JSON claim layer {l50 * 1000:.3f} ms, ratio {l50 / p50:.2f}×")

    df = claims_frame(n)
    rounds = int(df.group_by("patient").len()["len"].max())
    t = time.perf_counter()
    out = health.settle_batch(chain, df)
    batch = time.perf_counter() - t
    parts = out.select(sum(pl.col(r) for r in ("health.waived", "health.basic", "health.critical_illness",
                                                "health.assistance", "health.absorbed", "health.topup.wsfp",
                                                "health.topup.yyax", "health.patient")) == pl.col("total")).to_series().all()
    print(f"2. batch: {n:,} claims of {df['patient'].n_unique():,} patients in {rounds} rounds: {batch:.2f} s "
          f"(target ≤ 5 s) = {n / batch:,.0f} claims/s | parts add up to the bill on every row: {parts}")
    # a sample of patients settled one by one, in claim order
    sample = out.filter(pl.col("patient").is_in(out["patient"].unique().head(200).to_list())).sort("patient", "seq")
    t = time.perf_counter()
    mismatches, last, ytd = 0, None, None
    for r in sample.iter_rows(named=True):
        if r["patient"] != last:
            last, ytd = r["patient"], {"basic": "0", "ci_base": "0", "ci": "0", "assistance": "0",
                                       "topup": {"wsfp": "0", "yyax": "0"}}
        cats = [c for c in health.CATEGORIES if r[c]]
        res = health.settle(chain, {**CLAIM, "categories": cats, "in_county": r["in_county"], "referred": r["referred"],
                                    "total": health.yuan(r["total"]), "in_policy": health.yuan(r["in_policy"]),
                                    "waivable": health.yuan(r["waivable"]), "ytd": ytd,
                                    "fund_balances": {"wsfp": health.yuan(max_fen()), "yyax": health.yuan(max_fen())}})
        mismatches += any(res["_fen"][k] != r[k] for k in res["_fen"])
        ytd = res["accumulators"]
    one = (time.perf_counter() - t) / sample.height
    print(f"   sample of {sample.height} claims settled one by one: {mismatches} differences (must be 0) | "
          f"one by one {one * 1000:.3f} ms/claim vs batch {batch / n * 1e6:.2f} µs/claim: batch is {one / (batch / n):.0f}× faster")


def part_3(http_claims: int, clients: int = 8):
    sys.path.insert(0, str(ROOT))
    from dev import Postgres  # the same throwaway cluster as the test command

    with Postgres() as url:
        env = dict(os.environ, FUPIN_DATABASE_URL=url, FUPIN_SECRET_KEY="benchmark-only", DJANGO_SETTINGS_MODULE="fupin.settings",
                   FUPIN_ALLOWED_HOSTS="127.0.0.1")
        py = str(ROOT / ".venv" / "bin" / "python")
        subprocess.run([py, "-c", "import django; django.setup(); from django.core.management import call_command; "
                                  "call_command('migrate', verbosity=0)"], env=env, check=True, cwd=ROOT)
        setup = subprocess.run([py, "-c", SETUP.format(n=http_claims)], env=env, check=True, cwd=ROOT,
                               capture_output=True, text=True).stdout.strip().splitlines()
        token, ids = setup[0], setup[1:]
        port = 18765
        # the production server, as `fupin serve` runs it (several worker processes)
        server = subprocess.Popen([py, "-m", "gunicorn", "fupin.wsgi:application", "--bind", f"127.0.0.1:{port}",
                                   "--workers", os.environ.get("FUPIN_WORKERS", "4"), "--threads", "2"],
                                  env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(100):
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=1)
                    break
                except Exception:
                    time.sleep(0.2)
            work = [(i, ids[i % len(ids)]) for i in range(http_claims)]
            lat, errors, lock = [], [], threading.Lock()

            def client(chunk):
                for i, pid in chunk:
                    body = json.dumps({"hospital": "H990101", "id_number": pid, "number": f"B{i}", "visit_type": "inpatient",
                                       "discharge_date": "2024-06-01", "in_county": True, "total": f"{20000 + i % 900}.00",
                                       "in_policy": "18000.00", "waivable": "100.00"}).encode()
                    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/settlements", data=body, method="POST",
                                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
                    t = time.perf_counter()
                    try:
                        urllib.request.urlopen(req, timeout=30).read()
                    except Exception as exc:
                        with lock:
                            errors.append(str(exc))
                    with lock:
                        lat.append(time.perf_counter() - t)
            threads = [threading.Thread(target=client, args=(work[k::clients],)) for k in range(clients)]
            t0 = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.perf_counter() - t0
        finally:
            server.terminate()
            server.wait()
        check = subprocess.run([py, "-c", CHECK], env=env, check=True, cwd=ROOT, capture_output=True, text=True).stdout.strip()
        print(f"3. settle endpoint, PostgreSQL, {clients} concurrent clients, {http_claims} claims over {len(ids)} patients: "
              f"{http_claims / wall:.0f} claims/s, p50 {statistics.median(lat) * 1000:.1f} ms, "
              f"p95 {sorted(lat)[int(len(lat) * .95)] * 1000:.1f} ms (target ≤ 50 ms), errors {len(errors)}")
        print(f"   {check}")


SETUP = """
import django; django.setup()
import datetime as dt
from django.utils import timezone
from fupin.core import idcard, services as cs
from fupin.core.models import Region, User
from fupin.funds import services as funds
from fupin.health.models import Hospital
from fupin.health.services import fund_account
from fupin.policy.money import max_fen
from fupin.registry.models import Household, Person
for code, name, level, parent in [("990000000000", "示例省", 1, None), ("990100000000", "示例市", 2, "990000000000"),
                                  ("990101000000", "示例县", 3, "990100000000"), ("990101100000", "示例镇", 4, "990101000000"),
                                  ("990101100200", "示例村", 5, "990101100000")]:
    Region.objects.create(code=code, name=name, level=level, parent_id=parent)
Hospital.objects.create(code="H990101", name="示例县人民医院", region_id="990101000000", level="county")
u = User.objects.create(username="his", role="hospital_window", region_id="990101000000", password_changed_at=timezone.now())
o = User.objects.create(username="o", role="county_officer", region_id="990101000000", password_changed_at=timezone.now())
# as much as a claim's fund balance may hold (policies/limits.yaml max_fen): more is refused at settlement
funds.budget_allocate(actor=o, budget=fund_account("990101000000", "wsfp", dt.date(2024, 1, 1)), amount=max_fen(), date=dt.date(2024, 1, 1), decision_id="A")
print(cs.token_create(actor=u, user=u, name="bench"))
for i in range(max(8, {n} // 10)):
    h = Household.objects.create(number=f"P{{i}}", village_id="990101100200", attribute="general", main_cause="illness", status="registered")
    p = Person(household=h, name=f"患者{{i}}", id_number=idcard.make_id("513435", dt.date(1950, 1, 1) + dt.timedelta(days=i), 11),
               birth_date=dt.date(1950, 1, 1) + dt.timedelta(days=i), sex="M", relation="head", labour="lost")
    p.save()
    print(p.id_number)
"""

CHECK = """
import django; django.setup()
import datetime as dt
from collections import defaultdict
from django.db.models import Sum
from fupin.funds.models import Entry
from fupin.health.models import Accumulator, Claim
from fupin.health.services import fund_account
sums = defaultdict(int)
for c in Claim.objects.all():
    for k, v in c.breakdown.items():
        sums[k] += v
acc = dict(Accumulator.objects.values_list("key").annotate(s=Sum("amount")).values_list("key", "s"))
fund = fund_account("990101000000", "wsfp", dt.date(2024, 6, 1))  # the county's own fund (set up above)
paid = -(Entry.objects.filter(account=fund).exclude(transaction__kind="allocation").aggregate(s=Sum("amount"))["s"] or 0)
ok = (acc.get("basic", 0) == sums["health.basic"] and acc.get("ci", 0) == sums["health.critical_illness"]
      and acc.get("assistance", 0) == sums["health.assistance"] and acc.get("topup.wsfp", 0) == sums["health.topup.wsfp"] == paid
      and all(sum(e.amount for e in c.transaction.entries.all()) == 0 for c in Claim.objects.all()[:200]))
print(f"{Claim.objects.count()} claims; accumulators and ledger match the claims exactly: {ok}")
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--claims", type=int, default=1_000_000)
    ap.add_argument("--http-claims", type=int, default=2000)
    ap.add_argument("--no-http", action="store_true")
    args = ap.parse_args()
    part_1_and_2(args.claims)
    if not args.no_http:
        part_3(args.http_claims)


if __name__ == "__main__":
    main()
