"""Record linkage between a department's list and the registry (or any two files) — no Django.

Two stages (issue 14 §2):
1. exact: both records carry the same *valid* 18-digit ID number (a 15-digit old number is
   converted first) and the names agree (same characters after normalising, or same pinyin):
   probability 1, method "id";
2. probabilistic: everything else goes to Splink (DuckDB) with the Fellegi–Sunter model shipped in
   `policies/linkage/model.json` (m/u fixed there, trained on the synthetic benchmark, so a run
   never trains and always gives the same numbers). Comparisons: ID number (exact / one digit
   wrong or two swapped), name (exact / same pinyin / one character off / similar pinyin), birth
   date, sex, address.

Chinese names are normalised before anything compares them: full-width → half-width (NFKC),
every space and separator dot removed, traditional → simplified (OpenCC tables); the pinyin
without tones (pypinyin) catches homophones such as 王伟/王玮.

Each pair gets a band from two thresholds (settings MONITORING_LINK_AUTO / _REVIEW):
auto ≥ AUTO > review ≥ REVIEW > reject.
"""
from __future__ import annotations

import datetime as dt
import functools
import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from fupin.core import idcard

MODEL_PATH = Path(__file__).resolve().parents[2] / "policies" / "linkage" / "model.json"

AUTO, REVIEW, REJECT = "auto", "review", "reject"
BAND_LABEL = {AUTO: "自动确认", REVIEW: "人工复核", REJECT: "拒绝"}
METHOD_LABEL = {"id": "身份证号一致", "model": "概率匹配"}


# ---- normalisation ------------------------------------------------------------------------------

_SEPARATORS = re.compile(r"[\s·•．.・\-_,，、]+")


@functools.lru_cache(maxsize=1)
def _t2s():
    from opencc import OpenCC  # opencc-python-reimplemented: pure Python tables

    return OpenCC("t2s")


@functools.lru_cache(maxsize=200_000)
def norm_name(raw: str | None) -> str:
    """全角→半角, no spaces or dots, traditional → simplified."""
    if not raw:
        return ""
    text = unicodedata.normalize("NFKC", str(raw))
    text = _SEPARATORS.sub("", text)
    return _t2s().convert(text)


@functools.lru_cache(maxsize=200_000)
def pinyin(name: str) -> str:
    """Toneless pinyin, one syllable per character, joined by spaces ("wang wei")."""
    if not name:
        return ""
    from pypinyin import lazy_pinyin

    return " ".join(lazy_pinyin(name))


def norm_id(raw: Any) -> tuple[str, bool]:
    """(ID as 18 characters where possible, valid?). A 15-digit old number becomes its 18-digit
    form (century 19 inserted, check digit computed); an invalid number is kept as normalised so
    the model can still see that it is one digit away from another."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return "", False
    if isinstance(raw, float) and raw.is_integer():
        raw = str(int(raw))
    value = idcard.normalize(str(raw))
    if len(value) == 15 and value.isdigit():
        body = value[:6] + "19" + value[6:]
        value = body + idcard.check_digit(body)
    return value, idcard.check(value).valid


def norm_sex(raw: Any) -> str:
    s = unicodedata.normalize("NFKC", str(raw or "")).strip().upper()
    if s in ("男", "M", "1", "MALE"):
        return "M"
    if s in ("女", "F", "2", "FEMALE"):
        return "F"
    return ""


def norm_birth(raw: Any) -> str:
    if isinstance(raw, dt.datetime):
        raw = raw.date()
    if isinstance(raw, dt.date):
        return raw.strftime("%Y%m%d")
    s = re.sub(r"\D", "", unicodedata.normalize("NFKC", str(raw or "")))
    return s if len(s) == 8 else ""


_ADDRESS_NOISE = re.compile(r"[\s,，、()（）\-·]+")


def norm_address(raw: Any) -> str:
    if not raw:
        return ""
    text = _ADDRESS_NOISE.sub("", unicodedata.normalize("NFKC", str(raw)))
    return _t2s().convert(text)


@dataclass
class Record:
    """One person on either side. `key` identifies it in its own file (row number or person pk)."""
    key: str
    name: str = ""
    id_number: str = ""
    sex: str = ""
    birth: Any = ""
    address: str = ""
    extra: dict = field(default_factory=dict)

    def features(self) -> dict:
        name = norm_name(self.name)
        idn, valid = norm_id(self.id_number)
        birth = norm_birth(self.birth)
        sex = norm_sex(self.sex)
        if valid:
            b, s = idcard.facts(idn)
            birth = birth or b.strftime("%Y%m%d")
            sex = sex or ("M" if s == "男" else "F")
        py = pinyin(name)
        return {"key": self.key, "name": name or None, "name_py": py or None,
                "surname_py": py.split(" ")[0] if py else None,
                "id_norm": idn or None, "id_valid": valid, "birth": birth or None,
                "birth_year": birth[:4] if birth else None, "sex": sex or None,
                "address": norm_address(self.address) or None}


@dataclass(frozen=True)
class Pair:
    left: str
    right: str
    probability: float
    band: str
    method: str


def band(probability: float, auto: float, review: float) -> str:
    return AUTO if probability >= auto else REVIEW if probability >= review else REJECT


def _names_agree(a: dict, b: dict) -> bool:
    return bool(a["name"]) and (a["name"] == b["name"] or a["name_py"] == b["name_py"])


# ---- the model ----------------------------------------------------------------------------------

def comparisons(dialect: str = "duckdb") -> list[dict]:
    """Comparison levels in Splink's JSON form (m/u filled in from the model file). The SQL is the
    same on both engines except the Jaro–Winkler function's name (Splink's Spark jar calls it
    jaro_winkler); damerau_levenshtein and contains exist on both."""
    jw = "jaro_winkler_similarity" if dialect == "duckdb" else "jaro_winkler"

    def null(col):  # column names unquoted: "x" is an identifier in DuckDB but a string in Spark
        return {"sql_condition": f"{col}_l IS NULL OR {col}_r IS NULL", "label_for_charts": f"{col} 缺失",
                "is_null_level": True}

    def lvl(sql, label, **kw):
        return {"sql_condition": sql, "label_for_charts": label, **kw}

    return [
        {"output_column_name": "id_norm", "comparison_description": "身份证号", "comparison_levels": [
            null("id_norm"),
            lvl('id_norm_l = id_norm_r', "一致"),
            lvl('damerau_levenshtein(id_norm_l, id_norm_r) <= 1', "一位错或两位颠倒"),
            lvl("ELSE", "不同")]},
        {"output_column_name": "name", "comparison_description": "姓名", "comparison_levels": [
            null("name"),
            lvl('name_l = name_r', "一致", tf_adjustment_column="name", tf_adjustment_weight=1.0),
            lvl('name_py_l = name_py_r', "同音"),
            lvl('damerau_levenshtein(name_l, name_r) <= 1', "一字之差（错字、漏字、颠倒）"),
            lvl(f'{jw}(name_py_l, name_py_r) >= 0.88', "读音相近"),
            lvl("ELSE", "不同")]},
        {"output_column_name": "birth", "comparison_description": "出生日期", "comparison_levels": [
            null("birth"),
            lvl('birth_l = birth_r', "一致"),
            lvl('damerau_levenshtein(birth_l, birth_r) <= 1', "一位之差"),
            lvl("ELSE", "不同")]},
        {"output_column_name": "sex", "comparison_description": "性别", "comparison_levels": [
            null("sex"),
            lvl('sex_l = sex_r', "一致"),
            lvl("ELSE", "不同")]},
        {"output_column_name": "address", "comparison_description": "住址", "comparison_levels": [
            null("address"),
            lvl('address_l = address_r OR contains(address_l, address_r) OR contains(address_r, address_l)',
                "一致或包含"),
            lvl(f'{jw}(address_l, address_r) >= 0.85', "相近"),
            lvl("ELSE", "不同")]},
    ]


BLOCKING = [
    "l.id_norm = r.id_norm",
    "l.birth = r.birth AND l.surname_py = r.surname_py",
    "l.name_py = r.name_py AND l.birth_year = r.birth_year",
    "l.name = r.name AND l.address = r.address",
]


def settings_dict(model: dict, n_left: int, n_right: int, dialect: str = "duckdb") -> dict:
    """Splink settings for one run: the shipped levels with their m/u and the prior for this run.

    The prior (probability that two random records match) depends on the sizes: we expect
    `expected_overlap` of the smaller file to be on the larger one."""
    expected = max(1.0, model["expected_overlap"] * min(n_left, n_right))
    prior = min(0.5, expected / max(1, n_left * n_right))
    comps = comparisons(dialect)
    for comp in comps:
        params = model["levels"][comp["output_column_name"]]
        for level in comp["comparison_levels"]:
            if level.get("is_null_level"):
                continue
            m, u = params[level["label_for_charts"]]
            level["m_probability"], level["u_probability"] = m, u
    return {"link_type": "link_only", "unique_id_column_name": "key", "comparisons": comps,
            "blocking_rules_to_generate_predictions": [{"blocking_rule": b, "sql_dialect": dialect} for b in BLOCKING],
            "probability_two_random_records_match": prior, "retain_matching_columns": False,
            "retain_intermediate_calculation_columns": False, "sql_dialect": dialect}


@functools.lru_cache(maxsize=4)
def load_model(path: str | None = None) -> dict:
    return json.loads(Path(path or MODEL_PATH).read_text(encoding="utf-8"))


def _frame(features: list[dict]):
    import pandas as pd

    cols = ["key", "name", "name_py", "surname_py", "id_norm", "birth", "birth_year", "sex", "address"]
    # typed as text: a column that is empty on one side must not be guessed as a number
    return pd.DataFrame([{c: f[c] for c in cols} for f in features], columns=cols).astype("string")


FRAME_COLUMNS = ["key", "name", "name_py", "surname_py", "id_norm", "birth", "birth_year", "sex", "address"]


def spark_session():
    """Local mode here (FUPIN_SPARK_MASTER, default local[2]); under spark-submit the cluster's
    session is picked up as it is. Splink's jar of similarity functions is added either way."""
    import os
    import tempfile

    from pyspark.sql import SparkSession
    from splink.backends.spark import similarity_jar_location

    builder = SparkSession.builder.appName("fupin-link").config("spark.jars", similarity_jar_location())
    if os.environ.get("FUPIN_SPARK_MASTER") or not os.environ.get("SPARK_HOME"):
        builder = builder.master(os.environ.get("FUPIN_SPARK_MASTER", "local[2]")) \
            .config("spark.sql.shuffle.partitions", os.environ.get("FUPIN_SPARK_PARTITIONS", "2")) \
            .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false") \
            .config("spark.driver.memory", os.environ.get("FUPIN_SPARK_DRIVER_MEMORY", "2g"))
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    spark.sparkContext.setCheckpointDir(tempfile.mkdtemp(prefix="fupin-spark-"))
    return spark


def _db_api(engine: str):
    # SparkAPI only on the Spark path: importing it needs pyspark, an optional extra
    if engine == "spark":
        import os

        from splink import SparkAPI

        # local mode keeps intermediate tables in memory; a cluster writes them as parquet (Splink's default)
        method = os.environ.get("FUPIN_SPARK_LINEAGE", "persist" if not os.environ.get("SPARK_HOME") else "parquet")
        return SparkAPI(spark_session=spark_session(), break_lineage_method=method)
    from splink import DuckDBAPI

    return DuckDBAPI()


def _inputs(engine: str, left: list[dict], right: list[dict]):
    frames = [_frame(left), _frame(right)]
    if engine != "spark":
        return frames
    from pyspark.sql.types import StringType, StructField, StructType

    spark = spark_session()
    schema = StructType([StructField(c, StringType(), True) for c in FRAME_COLUMNS])
    return [spark.createDataFrame([tuple(None if v is None else str(v) for v in (f[c] for c in FRAME_COLUMNS))
                                   for f in side], schema) for side in (left, right)]


def _splink(left: list[dict], right: list[dict], model: dict, floor: float,
            engine: str = "duckdb") -> list[tuple[str, str, float]]:
    if not left or not right:
        return []
    import logging

    from splink import Linker

    logging.getLogger("splink").setLevel(logging.WARNING)
    linker = Linker(_inputs(engine, left, right), settings_dict(model, len(left), len(right), engine),
                    db_api=_db_api(engine), input_table_aliases=["left_file", "right_file"],
                    set_up_basic_logging=False)
    df = linker.inference.predict(threshold_match_probability=floor).as_pandas_dataframe()
    out = []
    for row in df[["source_dataset_l", "key_l", "key_r", "match_probability"]].itertuples(index=False):
        a, b = (row.key_l, row.key_r) if row.source_dataset_l == "left_file" else (row.key_r, row.key_l)
        out.append((str(a), str(b), float(row.match_probability)))
    return out


def link(left: Iterable[Record], right: Iterable[Record], *, auto: float, review: float,
         floor: float | None = None, model: dict | None = None, engine: str = "duckdb") -> list[Pair]:
    """Every candidate pair with probability ≥ floor (default: the review threshold), sorted by
    left key, then descending probability. Records linked exactly do not go to the model."""
    model = model or load_model()
    floor = review if floor is None else floor
    lf = [r.features() for r in left]
    rf = [r.features() for r in right]
    by_id: dict[str, list[dict]] = {}
    for f in rf:
        if f["id_valid"]:
            by_id.setdefault(f["id_norm"], []).append(f)
    pairs: list[Pair] = []
    done_l, done_r = set(), set()
    for f in lf:
        if not f["id_valid"]:
            continue
        for g in by_id.get(f["id_norm"], []):
            if _names_agree(f, g):
                pairs.append(Pair(f["key"], g["key"], 1.0, AUTO, "id"))
                done_l.add(f["key"])
                done_r.add(g["key"])
    rest_l = [f for f in lf if f["key"] not in done_l]
    rest_r = [f for f in rf if f["key"] not in done_r]
    for a, b, p in _splink(rest_l, rest_r, model, floor, engine):
        pairs.append(Pair(a, b, round(p, 6), band(p, auto, review), "model"))
    order = {f["key"]: i for i, f in enumerate(lf)}
    pairs.sort(key=lambda p: (order.get(p.left, 0), -p.probability, p.right))
    return pairs
