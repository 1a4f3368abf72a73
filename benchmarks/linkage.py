#!/usr/bin/env python
"""Linkage benchmark (issue 14 §2). Not a test: it prints precision, recall and time.

    .venv/bin/python benchmarks/linkage.py [--left 20000] [--right 4000] [--seed 2026]
    .venv/bin/python benchmarks/linkage.py --province   # issue 14 §4: 5,000,000 × 5,000,000
    .venv/bin/python benchmarks/linkage.py --province --cache /tmp/fupin-bench   # generate once, link again
    .venv/bin/python benchmarks/linkage.py --train      # re-estimate policies/linkage/model.json

A labelled synthetic registry and department list (fupin/monitoring/synthetic.py: real name
frequencies, namesakes such as 王伟, the typo kinds of the issue) is linked with the shipped
model and the thresholds in settings (MONITORING_LINK_AUTO, MONITORING_LINK_REVIEW).
Targets: precision ≥ 0.99 in auto-accept; recall ≥ 0.97 over auto-accept + review.
Province scale (issue 14 §4, --province): 5,000,000 × 5,000,000 with DuckDB on the 2-core
machine in ≤ 15 minutes and ≤ 12 GB peak memory. Peak memory printed is this process's
maximum resident set (getrusage; DuckDB runs in-process), after generation and after linking.

--train estimates the model's m from the labels and u from random pairs (fixed seeds) on a
separate training draw (seed + 1000), so the benchmark never scores the data it learned from.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


M_FLOOR = 0.002
PROVINCE = 5_000_000


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def train(args) -> None:
    import logging

    from splink import DuckDBAPI, Linker

    from fupin.monitoring import linkage, synthetic

    logging.getLogger("splink").setLevel(logging.WARNING)
    import polars as pl

    truth = synthetic.benchmark(args.left, args.right, seed=args.seed + 1000)
    cols = linkage.FRAME_COLUMNS
    left = truth.left.select(cols).with_columns(pl.col("key").alias("truth")).to_pandas()
    right = (truth.right.select(cols).join(truth.pairs.rename({"left": "truth", "right": "key"}), on="key", how="left")
             .with_columns(pl.col("truth").fill_null(pl.lit("none-") + pl.col("key"))).to_pandas())
    settings = linkage.settings_dict(_blank_model(), truth.left.height, truth.right.height)
    for comp in settings["comparisons"]:
        for level in comp["comparison_levels"]:
            level.pop("m_probability", None)
            level.pop("u_probability", None)
    linker = Linker([left, right], settings, db_api=DuckDBAPI(), input_table_aliases=["left_file", "right_file"],
                    set_up_basic_logging=False)
    linker.training.estimate_u_using_random_sampling(max_pairs=2_000_000, seed=1)
    linker.training.estimate_m_from_label_column("truth")
    saved = linker.misc.save_model_to_json()
    levels = {}
    for comp in saved["comparisons"]:
        params = {}
        for level in comp["comparison_levels"]:
            if level.get("is_null_level"):
                continue
            # m floored at M_FLOOR: a real clerk can mistype any field, even where the draw had no such case
            params[level["label_for_charts"]] = [round(max(level.get("m_probability", 0), M_FLOOR), 6),
                                                 round(max(level.get("u_probability", 1e-9), 1e-9), 9)]
        levels[comp["output_column_name"]] = params
    model = {"about": "姓名、身份证号、出生日期、性别、住址的 Fellegi–Sunter 参数（m：同一人时各级的概率；u：不同人时的概率）。"
                      "由 benchmarks/linkage.py --train 在合成数据上估计（m 按标注，u 按随机抽样，种子固定）。",
             "trained_on": {"left": args.left, "right": args.right, "seed": args.seed + 1000},
             "expected_overlap": 0.5, "levels": levels}
    linkage.MODEL_PATH.parent.mkdir(parents=True, exist_ok=True)
    linkage.MODEL_PATH.write_text(json.dumps(model, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {linkage.MODEL_PATH}")


def _blank_model() -> dict:
    from fupin.monitoring import linkage

    levels = {}
    for comp in linkage.comparisons():
        levels[comp["output_column_name"]] = {lvl["label_for_charts"]: [0.5, 0.5]
                                              for lvl in comp["comparison_levels"] if not lvl.get("is_null_level")}
    return {"expected_overlap": 0.5, "levels": levels}


def _generated(args, synthetic):
    """The labelled data, generated (pure Python: about 16 s per 100,000 × 100,000, so ≈ 15 minutes at
    province scale) or, with --cache DIR, read back from the Parquet files of an earlier run with the
    same sizes and seed. Generation is not part of the linkage target; caching lets the link be measured
    again without paying for it."""
    import polars as pl

    fields = list(synthetic.Truth.__dataclass_fields__)
    where = Path(args.cache) / f"linkage-{args.left}x{args.right}-seed{args.seed}" if args.cache else None
    if where and all((where / f"{f}.parquet").exists() for f in fields):
        print(f"reading the generated data from {where}", flush=True)
        return synthetic.Truth(*(pl.read_parquet(where / f"{f}.parquet") for f in fields))
    truth = synthetic.benchmark(args.left, args.right, seed=args.seed)
    if where:
        where.mkdir(parents=True, exist_ok=True)
        for f in fields:
            getattr(truth, f).write_parquet(where / f"{f}.parquet")
    return truth


def bench(args) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fupin.settings")
    os.environ.setdefault("FUPIN_TESTING", "1")
    import django

    django.setup()
    from django.conf import settings

    from fupin.monitoring import linkage, synthetic

    import polars as pl

    t0 = time.perf_counter()
    truth = _generated(args, synthetic)
    t1 = time.perf_counter()
    gen_peak = peak_mb()
    print(f"generated {truth.left.height} × {truth.right.height} in {t1 - t0:.1f} s, peak RSS {gen_peak:,.0f} MB",
          flush=True)
    pairs = linkage.link_frames(truth.left, truth.right, auto=settings.MONITORING_LINK_AUTO,
                                review=settings.MONITORING_LINK_REVIEW, floor=0.01)
    t2 = time.perf_counter()
    true = truth.pairs
    n_true = true.height
    print(f"registry {truth.left.height} persons, list {truth.right.height} rows, true pairs {n_true}; "
          f"thresholds auto ≥ {settings.MONITORING_LINK_AUTO}, review ≥ {settings.MONITORING_LINK_REVIEW}")
    print(f"generate {t1 - t0:.1f} s, link {t2 - t1:.1f} s ({pairs.height} candidate pairs ≥ 0.01); "
          f"peak RSS after generating {gen_peak:,.0f} MB, after linking {peak_mb():,.0f} MB"
          + (" (target link ≤ 15 min, ≤ 12 GB)" if args.left >= PROVINCE else ""))

    def hits(found) -> int:
        return found.join(true, on=["left", "right"], how="semi").height

    bands = {b: pairs.filter(pl.col("band") == b).select("left", "right")
             for b in (linkage.AUTO, linkage.REVIEW, linkage.REJECT)}
    for b, found in bands.items():
        tp = hits(found)
        prec = tp / found.height if found.height else 1.0
        print(f"  {linkage.BAND_LABEL[b]:<6} pairs {found.height:>6}  true {tp:>6}  precision {prec:.4f}")
    accepted = pl.concat([bands[linkage.AUTO], bands[linkage.REVIEW]])
    print(f"recall auto-accept           {hits(bands[linkage.AUTO]) / n_true:.4f}")
    print(f"recall auto-accept + review  {hits(accepted) / n_true:.4f}")
    print(f"precision auto-accept        {hits(bands[linkage.AUTO]) / max(1, bands[linkage.AUTO].height):.4f}")
    missed = true.join(accepted, on=["left", "right"], how="anti").join(truth.errors, on="right", how="left")
    if missed.height:
        kinds = Counter(k for ks in missed["kinds"].to_list() for k in (ks.split(",") if ks else ["none"]))
        print("missed pairs by error kind:", dict(kinds.most_common()))
    wrong = bands[linkage.AUTO].join(true, on=["left", "right"], how="anti").sort("left", "right")
    if wrong.height and args.verbose:
        for a, b in wrong.head(20).iter_rows():
            print("  false auto:", truth.left_raw.filter(pl.col("key") == a).row(0),
                  truth.right_raw.filter(pl.col("key") == b).row(0))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--left", type=int, default=20000)
    p.add_argument("--right", type=int, default=4000)
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--province", action="store_true",
                   help=f"issue 14 §4 scale: --left {PROVINCE} --right {PROVINCE}")
    p.add_argument("--train", action="store_true")
    p.add_argument("--verbose", action="store_true")
    p.add_argument("--cache", metavar="DIR", help="keep the generated data here and reuse it on the next run")
    args = p.parse_args()
    if args.province:
        args.left = args.right = PROVINCE
    train(args) if args.train else bench(args)


if __name__ == "__main__":
    main()
