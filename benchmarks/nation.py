#!/usr/bin/env python
"""Nation tier benchmark: every rule of the education and welfare models over N persons on Spark
(`fupin nation`, local mode) against the single-process engine on the same files. Not a test: it
prints numbers, a ratio and an extrapolation that says what was measured and what was not.

    .venv/bin/pip install -r requirements-spark.txt        # and Java 17
    flock /tmp/bigbench.lock .venv/bin/python benchmarks/nation.py [--persons 10000000] [--master local[2]]

Both sides read the same Parquet roster (partitioned by county) and write Parquet results; each
runs in its own process, and its peak memory is the largest sum of resident memory over the
process tree (the Spark JVM and its Python workers together), sampled every 0.2 s.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                parts = f.read().rsplit(")", 1)[1].split()
            children.setdefault(int(parts[1]), []).append(int(d))
            rss[int(d)] = int(parts[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        todo += children.get(p, [])
    return total


def measured(cmd: list[str], env: dict) -> tuple[float, int, str]:
    """Wall time, peak tree RSS and stdout of a command."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = [0]

    def sample():
        while proc.poll() is None:
            peak[0] = max(peak[0], tree_rss(proc.pid))
            time.sleep(0.2)
    th = threading.Thread(target=sample, daemon=True)
    th.start()
    out, err = proc.communicate()
    th.join()
    if proc.returncode:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err[-3000:]}")
    return time.perf_counter() - t, peak[0], out


SINGLE = """
import sys, time, os, polars as pl
from fupin.policy import nation
roster, out = sys.argv[1], sys.argv[2]
for name in ("education", "welfare"):
    t = time.perf_counter()
    result = nation.local(nation.MODELS[name], os.path.join(roster, name))
    os.makedirs(os.path.join(out, name), exist_ok=True)
    result.write_parquet(os.path.join(out, name), partition_by="county")
    print(name, result.height, round(time.perf_counter() - t, 2), flush=True)
"""

COMPARE = """
import sys, os, polars as pl
from fupin.policy import nation
a, b = sys.argv[1], sys.argv[2]
for name, model in nation.MODELS.items():
    cols = ["person_id", "county", *nation.rule_names(model)]
    read = lambda d: pl.read_parquet(os.path.join(d, name, "**", "*.parquet"), hive_partitioning=True,
                                     hive_schema={"county": pl.String}).select(cols).sort("person_id")
    x, y = read(a), read(b)
    print(name, x.height, x.equals(y), flush=True)
"""


def gb(n: int) -> str:
    return f"{n / 2**30:.2f} GB"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=10_000_000, help="persons per model roster")
    ap.add_argument("--counties", type=int, default=200)
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--keep", help="folder to keep the roster in (default: a temporary one, removed)")
    args = ap.parse_args()
    from fupin.demo import nation as roster

    work = Path(args.keep or tempfile.mkdtemp(prefix="fupin-nation-"))
    env = dict(os.environ, PYTHONPATH=str(ROOT), FUPIN_SPARK_DRIVER_MEMORY=os.environ.get("FUPIN_SPARK_DRIVER_MEMORY", "3g"))
    n = args.persons
    print(f"nation tier: {n:,} persons × 2 models (education: 10 rules, welfare: 7 rules), "
          f"{args.counties} counties under all 7 shipped packs; {os.cpu_count()} cores; master {args.master}")
    try:
        t = time.perf_counter()
        if not (work / "roster").exists():
            roster.write_roster(str(work / "roster"), {"education": n, "welfare": n}, n_counties=args.counties)
        size = sum(f.stat().st_size for f in (work / "roster").rglob("*.parquet"))
        print(f"roster generated and written in {time.perf_counter() - t:.1f} s, {size / 1e6:.0f} MB Parquet (not measured)")

        py = sys.executable
        t1, m1, out1 = measured([py, "-c", SINGLE, str(work / "roster"), str(work / "single")], env)
        print(f"single process (Polars engine): {t1:.1f} s, peak {gb(m1)}   [" + "; ".join(out1.split("\n")[:-1]) + "]")
        t2, m2, out2 = measured([py, "-m", "fupin.cli.main", "nation", str(work / "roster"), str(work / "spark"),
                                 "--master", args.master], env)
        print(f"Spark {args.master} (`fupin nation`): {t2:.1f} s, peak {gb(m2)} (JVM + Python workers)")
        t3, m3, out3 = measured([py, "-c", COMPARE, str(work / "single"), str(work / "spark")], env)
        same = all(line.split()[-1] == "True" for line in out3.split("\n")[:-1])
        print(f"results equal row for row: {'yes' if same else 'NO'} [{'; '.join(out3.split(chr(10))[:-1])}]")
        rows = 2 * n
        cores = int(args.master.split("[")[1].rstrip("]")) if "[" in args.master else os.cpu_count()
        rate = rows / t2 / cores
        print(f"ratio Spark / single process: {t2 / t1:.1f}× (both read and write Parquet)")
        print(f"measured throughput: single process {rows / t1 / 1e6:.2f} M rows/s; Spark {rows / t2 / 1e6:.2f} M rows/s "
              f"on {cores} cores = {rate / 1e6:.2f} M rows/s per core")
        total = 2 * 100_000_000
        print("extrapolated (NOT measured), 100,000,000 persons × 2 models, assuming the per-core rate above holds "
              "(Spark scales this map-only job linearly: no shuffle, each task reads and writes its own files), "
              "reads/writes from a shared file system at that rate, plus ~30 s of job start:")
        for executors, per in ((10, 4), (25, 4), (50, 4)):
            print(f"  {executors} executors × {per} cores: ≈ {total / (rate * executors * per) + 30:.0f} s")
        print(f"  this machine alone (local[{cores}]): ≈ {total / (rate * cores) / 60:.0f} min; "
              f"single process ≈ {t1 * total / rows / 60:.0f} min if it had "
              f"{gb(int(m1 * total / rows))} of memory (it holds a whole roster at once)")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
