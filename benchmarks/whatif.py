#!/usr/bin/env python
"""Policy what-if benchmark (issue 20). Not a test: prints numbers measured in one run.

    flock /tmp/bigbench.lock .venv/bin/python benchmarks/whatif.py [--persons 5000000] [--claims 2000000]

A Sichuan province of synthetic rosters made in Polars directly (no database): persons in
households and villages of many counties (one of them 513435, whose own county pack applies;
the others take the province pack), a year of education rosters (both semesters), social
assistance months and hospital claims. One scenario changes all three (boarding subsidy +200 a
year, 低保 standard 450 a month, self-pay cap 8%). Both sides run vectorised
(`fupin.policy.whatif.compare`), claims re-settled in order with accumulators.

1. The province: ≤ 60 s.   2. One county (513435): ≤ 3 s.
3. A sample of persons computed one case at a time (`one_by_one`) must equal the batch result,
   on both sides.
"""
from __future__ import annotations

import argparse
import os
import datetime as dt
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import polars as pl  # noqa: E402

from fupin.policy.money import max_fen  # noqa: E402
from fupin.policy.packs import shipped_packs  # noqa: E402
from fupin.policy.rules import health  # noqa: E402
from fupin.policy.rules.education import STAGES  # noqa: E402
from fupin.policy.whatif import Rosters, compare, one_by_one, overlay  # noqa: E402

YEAR = 2026
CHANGES = {"education.compulsory.boarding_living_per_year.primary": "1200",
           "education.compulsory.boarding_living_per_year.junior": "1450",
           "welfare.dibao.standard_per_month": "450", "health.topup.cap_share": "0.08"}
COUNTY = 3435   # 513435: the county with its own pack


def villages(counties: int, per_county: int = 200) -> np.ndarray:
    """12-digit codes 51CCCC TTT VVV: `counties` counties (the first is 513435), 10 townships each."""
    ids = [COUNTY] + [101 + i for i in range(counties - 1)]
    out = []
    for c in ids:
        for t in range(10):
            for v in range(per_county // 10):
                out.append(f"51{c:04d}{100 + t:03d}{200 + v:03d}")
    return np.array(out)


def make(persons: int, claims: int, counties: int, seed: int = 20) -> Rosters:
    rng = np.random.default_rng(seed)
    codes = villages(counties)
    households = persons * 10 // 35
    hh_village = codes[rng.integers(0, len(codes), households)]
    person_hh = np.sort(rng.integers(0, households, persons))
    person_village = hh_village[person_hh]
    ids = np.arange(persons)
    # education: 15% of persons are pupils, each on both semesters' rosters
    pupils = rng.choice(ids, persons * 15 // 100, replace=False)
    n = len(pupils)
    stage = rng.choice(np.array(["preschool", "primary", "junior", "senior", "sec_voc"]), n, p=[.15, .4, .25, .12, .08])
    base = pl.DataFrame({"_person": pupils, "_household": person_hh[pupils], "_village": person_village[pupils],
                         "stage": stage, "boarding": rng.random(n) < 0.4, "registered_poor": rng.random(n) < 0.3,
                         "dibao": rng.random(n) < 0.1, "tekun": rng.random(n) < 0.01,
                         "new_entrant": rng.random(n) < 0.2,
                         "fee": np.where(np.isin(stage, ["preschool", "senior", "sec_voc"]),
                                         rng.choice([0, 80000, 120000], n), 0)})
    education = pl.concat([base.with_columns(pl.lit(dt.date(YEAR, 3, 1)).alias("date"), pl.lit("spring").alias("semester")),
                           base.with_columns(pl.lit(dt.date(YEAR, 9, 1)).alias("date"), pl.lit("autumn").alias("semester"))])
    education = education.with_columns(pl.col("_village").alias("region"), pl.col("stage").cast(pl.Enum(STAGES)),
                                       pl.col("semester").cast(pl.Enum(["spring", "autumn"])))
    # social assistance: 4% of persons, 12 months each (the months a monthly run pays)
    who = rng.choice(ids, persons * 4 // 100, replace=False)
    m = len(who)
    programme = rng.choice(np.array(["dibao", "tekun", "disability_nursing", "fp_reward"]), m, p=[.7, .1, .1, .1])
    category = np.where(programme == "dibao", rng.choice(np.array(["ordinary", "class_a", "class_b"]), m),
                        np.where(programme == "tekun", rng.choice(np.array(["centralised", "dispersed"]), m),
                                 np.where(programme == "disability_nursing", rng.choice(np.array(["grade1", "grade2"]), m),
                                          "ordinary")))
    recipients = pl.DataFrame({"_person": who, "_household": person_hh[who], "_village": person_village[who],
                               "programme": programme, "category": category,
                               "care_level": np.where(programme == "tekun", rng.choice(np.array(["self", "partial", "full"]), m),
                                                      "none"),
                               "income": rng.integers(0, 60000, m), "members": rng.integers(1, 6, m),
                               "used_this_year": np.zeros(m, dtype=np.int64),
                               "financial_assets": np.zeros(m, dtype=np.int64), "vehicle": np.zeros(m, dtype=bool),
                               "commercial_housing": np.zeros(m, dtype=bool), "houses": np.ones(m, dtype=np.int64),
                               "business": np.zeros(m, dtype=bool)})
    months = pl.DataFrame({"date": [dt.date(YEAR, k, 1) for k in range(1, 13)]})
    welfare = recipients.join(months, how="cross").with_columns(pl.col("_village").alias("region"))
    # claims: a year of settlements of 40% of... patients drawn from the persons, 1–6 stays each
    patients = rng.choice(ids, claims * 2 // 5, replace=False)
    who = np.sort(patients[rng.integers(0, len(patients), claims)])
    total = rng.integers(50_000, 8_000_000, claims)
    in_policy = total * rng.integers(60, 100, claims) // 100
    day = rng.integers(0, 365, claims)
    order = np.lexsort((day, who))
    who, day = who[order], day[order]
    claims_df = pl.DataFrame({
        "_person": who, "_household": person_hh[who], "_village": person_village[who],
        "region": person_village[who], "patient": who, "seq": np.arange(claims),
        "discharge_date": (np.datetime64(f"{YEAR}-01-01") + day).astype("datetime64[D]"),
        "visit_type": np.full(claims, "inpatient"), "level": rng.choice(np.array(["township", "county", "city"]), claims),
        "in_county": rng.random(claims) < 0.85, "referred": rng.random(claims) < 0.5,
        "tekun": rng.random(claims) < 0.03, "dibao": rng.random(claims) < 0.2,
        "registered_poor": rng.random(claims) < 0.6, "monitored": rng.random(claims) < 0.1,
        "total": total, "in_policy": in_policy, "waivable": in_policy * rng.integers(0, 3, claims) // 100,
    }).with_columns(pl.col("discharge_date").cast(pl.Date), pl.col("visit_type").cast(pl.Enum(list(health.VISITS))),
                    pl.col("level").cast(pl.Enum(list(health.LEVELS))))
    return Rosters(education=education, welfare=welfare, health=claims_df)


def only(r: Rosters, expr) -> Rosters:
    return Rosters(*(f.filter(expr) for f in (r.education, r.welfare, r.health)))


def run(label: str, rosters: Rosters, region: str, target: float, digits: int):
    scenario = overlay(shipped_packs(), region, CHANGES, "基准情景")
    t, cpu = time.perf_counter(), time.process_time()
    result = compare(rosters, shipped_packs(), scenario, region_digits=digits)
    took, cpu = time.perf_counter() - t, time.process_time() - cpu
    rows = sum(f.height for f in (rosters.education, rosters.welfare, rosters.health))
    print(f"{label}: {result.persons.height:,} persons with a case, {rows:,} cases "
          f"(education {rosters.education.height:,}, assistance months {rosters.welfare.height:,}, "
          f"claims {rosters.health.height:,}) → {took:.2f} s wall (target ≤ {target:.0f} s) "
          f"{'OK' if took <= target else 'OVER'}, {cpu:.2f} s of CPU (all threads; on this shared machine the "
          f"process got {cpu / took:.0%} of a core) | cost {result.total_current / 100:,.2f} → "
          f"{result.total_scenario / 100:,.2f} yuan, gained {result.gained:,}, lost {result.lost:,}")
    return result, scenario, took


def sample_check(rosters: Rosters, result, scenario, n: int = 150) -> int:
    """n persons, every case of theirs computed one at a time on both sides, against the batch."""
    persons = result.persons.sample(n, seed=1)["_person"].to_list()
    mine = only(rosters, pl.col("_person").is_in(persons))
    t = time.perf_counter()
    current, changed = one_by_one(mine, shipped_packs()), one_by_one(mine, scenario)
    batch = {p: (a, b) for p, a, b in result.persons.filter(pl.col("_person").is_in(persons))
             .select("_person", "current", "scenario").iter_rows()}
    bad = sum(batch[p] != (current.get(p, 0), changed.get(p, 0)) for p in persons)
    cases = sum(f.height for f in (mine.education, mine.welfare, mine.health))
    print(f"3. sample: {len(persons)} persons, {cases} cases one at a time on both sides "
          f"({time.perf_counter() - t:.1f} s): {bad} differences (must be 0)")
    return bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=5_000_000)
    ap.add_argument("--claims", type=int, default=2_000_000)
    ap.add_argument("--counties", type=int, default=50)
    args = ap.parse_args()
    t = time.perf_counter()
    rosters = make(args.persons, args.claims, args.counties)
    print(f"data made in Polars in {time.perf_counter() - t:.1f} s: {args.persons:,} persons, "
          f"{args.counties} counties; health model chains: "
          f"{sorted({shipped_packs().for_region(c).key for c in rosters.health['region'].unique().to_list()})}")
    # warm: Polars' thread pool and the packs, as a server process has them
    run("0. warm-up (one county, not counted)", only(rosters, pl.col("_village").str.starts_with("513435")),
        "513435", 3, 9)
    result, scenario, _ = run("1. province", rosters, "51", 60, 6)
    county = only(rosters, pl.col("_village").str.starts_with("513435"))
    run("2. county 513435", county, "513435", 3, 9)
    bad = sample_check(rosters, result, scenario)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    print(f"peak RSS {peak:.2f} GB | load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores "
          f"(the machine is shared: timings are pessimistic)")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
