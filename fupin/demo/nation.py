"""A synthetic national roster for `fupin nation` (tests and benchmarks/nation.py): persons spread
over counties under every shipped pack, written as Parquet partitioned by county. Generated in
columns (NumPy, Polars) in slices, so 10,000,000 persons take seconds and little memory."""
from __future__ import annotations

import os

import numpy as np
import polars as pl

from fupin.policy.rules import education, welfare

# counties under every shipped pack (national default, provinces, county packs, the shili pack)
PACK_PREFIXES = ("11", "13", "42", "43", "51", "62", "99")
NAMED = ("513435", "433127")


def counties(n: int) -> list[str]:
    """n county codes: the two county packs' counties, then counties under each province prefix."""
    out = list(NAMED)
    i = 1
    while len(out) < n:
        for p in PACK_PREFIXES:
            code = f"{p}{(i // 20) + 1:02d}{(i % 20) + 1:02d}"
            if code not in out and len(out) < n:
                out.append(code)
        i += 1
    return out[:n]


def _regions(rng, n: int, codes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    county = np.array(codes)[rng.integers(0, len(codes), n)]
    village = np.char.zfill(rng.integers(100_000, 300_000, n).astype(str), 6)
    return county, np.char.add(county, village)


def education_roster(n: int, *, seed: int = 1, first_id: int = 1, n_counties: int = 40) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    county, region = _regions(rng, n, counties(n_counties))
    term = rng.integers(0, 2, n)
    year = rng.integers(2019, 2027, n)
    date = (np.array([f"{y}-03-01" for y in range(2019, 2027)] + [f"{y}-09-01" for y in range(2019, 2027)])
            [(year - 2019) + 8 * term]).astype("datetime64[D]")
    stages = list(education.STAGES)
    return pl.DataFrame({
        "person_id": np.arange(first_id, first_id + n, dtype=np.int64), "county": county, "region": region,
        "date": date, "stage": np.array(stages)[rng.integers(0, len(stages), n)],
        "semester": np.array(["spring", "autumn"])[term], "boarding": rng.random(n) < 0.4,
        "registered_poor": rng.random(n) < 0.5, "dibao": rng.random(n) < 0.1, "tekun": rng.random(n) < 0.02,
        "new_entrant": rng.random(n) < 0.2, "fee": rng.integers(0, 300_000, n),
    }).with_columns(pl.col("date").cast(pl.Date))


def welfare_roster(n: int, *, seed: int = 2, first_id: int = 1, n_counties: int = 40) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    county, region = _regions(rng, n, counties(n_counties))
    programmes = list(welfare.CATEGORIES_OF)
    prog = rng.integers(0, len(programmes), n)
    cats = np.empty(n, dtype=object)
    for i, p in enumerate(programmes):
        choices = welfare.CATEGORIES_OF[p]
        hit = prog == i
        cats[hit] = np.array(choices)[rng.integers(0, len(choices), int(hit.sum()))]
    month = rng.integers(0, 96, n)   # 2019-01 … 2026-12
    date = np.array([f"{2019 + m // 12}-{m % 12 + 1:02d}-01" for m in range(96)]).astype("datetime64[D]")[month]
    return pl.DataFrame({
        "person_id": np.arange(first_id, first_id + n, dtype=np.int64), "county": county, "region": region,
        "date": date, "programme": np.array(programmes)[prog], "category": cats.astype(str),
        "care_level": np.array(welfare.CARE_LEVELS)[rng.integers(0, len(welfare.CARE_LEVELS), n)],
        "income": rng.integers(0, 150_000, n), "members": rng.integers(1, 7, n),
        "used_this_year": rng.integers(0, 300_000, n),
        # verified assets: most within the limits, a few over (the means test's branches run too)
        "financial_assets": rng.integers(0, 3_000_000, n), "vehicle": rng.random(n) < 0.02,
        "commercial_housing": rng.random(n) < 0.01, "houses": rng.integers(0, 3, n), "business": rng.random(n) < 0.02,
    }).with_columns(pl.col("date").cast(pl.Date))


MAKERS = {"education": education_roster, "welfare": welfare_roster}


def write_roster(directory: str, persons: dict[str, int], *, n_counties: int = 40, slice_rows: int = 2_000_000,
                 seed: int = 1) -> dict[str, int]:
    """`<directory>/<model>/county=<code>/part-<k>.parquet` for each model, in slices of
    `slice_rows` persons (memory stays at one slice)."""
    written = {}
    for name, n in persons.items():
        target = os.path.join(directory, name)
        done, k = 0, 0
        while done < n:
            m = min(slice_rows, n - done)
            frame = MAKERS[name](m, seed=seed * 1000 + k, first_id=done + 1, n_counties=n_counties)
            for (code,), part in frame.partition_by("county", as_dict=True, maintain_order=False).items():
                folder = os.path.join(target, f"county={code}")
                os.makedirs(folder, exist_ok=True)
                part.drop("county").write_parquet(os.path.join(folder, f"part-{k:04d}.parquet"))
            done, k = done + m, k + 1
        written[name] = done
    return written
