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


FEATURE_SCHEMA = {"key": "Utf8", "name": "Utf8", "name_py": "Utf8", "surname_py": "Utf8", "id_norm": "Utf8",
                  "id_valid": "Boolean", "birth": "Utf8", "birth_year": "Utf8", "sex": "Utf8", "address": "Utf8"}


def feature_frame(records: Iterable[Record], chunk: int = 100_000):
    """The records' features as one columnar (polars) frame, built a chunk at a time: a province's
    5,000,000 persons never exist as 5,000,000 Python dicts at once."""
    import polars as pl

    schema = {k: getattr(pl, v) for k, v in FEATURE_SCHEMA.items()}
    parts, buf = [], []
    for r in records:
        buf.append(r.features())
        if len(buf) >= chunk:
            parts.append(pl.DataFrame(buf, schema=schema))
            buf = []
    if buf or not parts:
        parts.append(pl.DataFrame(buf, schema=schema))
    return pl.concat(parts, rechunk=True)


def _spark_inputs(left, right):
    from pyspark.sql.types import StringType, StructField, StructType

    spark = spark_session()
    schema = StructType([StructField(c, StringType(), True) for c in FRAME_COLUMNS])
    return [spark.createDataFrame(side.select(FRAME_COLUMNS).rows(), schema) for side in (left, right)]


def _splink(left, right, model: dict, floor: float, engine: str = "duckdb"):
    """Splink's predictions over two feature frames, as a frame (left, right, probability). On DuckDB
    the frames go over as Parquet files and the result comes back as one: DuckDB streams them from
    disk and can spill, and neither side is ever copied through pandas."""
    import polars as pl

    empty = pl.DataFrame(schema={"left": pl.Utf8, "right": pl.Utf8, "probability": pl.Float64})
    if left.height == 0 or right.height == 0:
        return empty
    import logging
    import os
    import tempfile

    from splink import Linker

    logging.getLogger("splink").setLevel(logging.WARNING)
    settings = settings_dict(model, left.height, right.height, engine)
    cols = ["source_dataset_l", "key_l", "key_r", "match_probability"]
    with tempfile.TemporaryDirectory(prefix="fupin-link-") as tmp:
        if engine == "spark":
            inputs, db_api = _spark_inputs(left, right), _db_api(engine)
        else:
            import duckdb
            from splink import DuckDBAPI

            con = duckdb.connect()
            # DuckDB's own default takes 80 % of the machine; capped, it spills to disk instead
            con.execute(f"SET temp_directory = '{tmp}'")
            con.execute(f"SET memory_limit = '{os.environ.get('FUPIN_LINK_MEMORY', '6GB')}'")
            for name, side in (("left_rows", left), ("right_rows", right)):
                side.select(FRAME_COLUMNS).write_parquet(f"{tmp}/{name}.parquet")
                con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{tmp}/{name}.parquet')")
            inputs, db_api = ["left_rows", "right_rows"], DuckDBAPI(connection=con)
        linker = Linker(inputs, settings, db_api=db_api, input_table_aliases=["left_file", "right_file"],
                        set_up_basic_logging=False)
        predictions = linker.inference.predict(threshold_match_probability=floor)
        if engine == "spark":
            df = predictions.as_pandas_dataframe()
            out = pl.DataFrame({c: df[c].astype(object).tolist() for c in cols},
                               schema={"source_dataset_l": pl.Utf8, "key_l": pl.Utf8, "key_r": pl.Utf8,
                                       "match_probability": pl.Float64})
        else:
            con.execute(f"COPY (SELECT {', '.join(cols)} FROM {predictions.physical_name}) "
                        f"TO '{tmp}/pairs.parquet' (FORMAT parquet)")
            out = pl.read_parquet(f"{tmp}/pairs.parquet")
            con.close()
    if out.height == 0:
        return empty
    swap = pl.col("source_dataset_l") != "left_file"
    return out.select(pl.when(swap).then(pl.col("key_r")).otherwise(pl.col("key_l")).cast(pl.Utf8).alias("left"),
                      pl.when(swap).then(pl.col("key_l")).otherwise(pl.col("key_r")).cast(pl.Utf8).alias("right"),
                      pl.col("match_probability").cast(pl.Float64).alias("probability"))


def link_frames(lf, rf, *, auto: float, review: float, floor: float | None = None, model: dict | None = None,
                engine: str = "duckdb"):
    """Every candidate pair of two feature frames (`feature_frame`) with probability ≥ floor (default:
    the review threshold), as a frame (left, right, probability, band, method) sorted by the left
    frame's order, then descending probability. Records linked exactly do not go to the model."""
    import polars as pl

    model = model or load_model()
    floor = review if floor is None else floor
    ids = ["key", "id_norm", "name", "name_py"]
    exact = (lf.filter(pl.col("id_valid")).select(ids)
             .join(rf.filter(pl.col("id_valid")).select(ids), on="id_norm", suffix="_r")
             .filter(pl.col("name").is_not_null()
                     & ((pl.col("name") == pl.col("name_r")) | (pl.col("name_py") == pl.col("name_py_r"))))
             .select(pl.col("key").alias("left"), pl.col("key_r").alias("right"),
                     pl.lit(1.0).alias("probability")))
    rest_l = lf.join(exact.select(pl.col("left").alias("key")).unique(), on="key", how="anti")
    rest_r = rf.join(exact.select(pl.col("right").alias("key")).unique(), on="key", how="anti")
    model_pairs = _splink(rest_l, rest_r, model, floor, engine).with_columns(pl.col("probability").round(6))
    pairs = pl.concat([exact.with_columns(pl.lit(AUTO).alias("band"), pl.lit("id").alias("method")),
                       model_pairs.with_columns(
                           pl.when(pl.col("probability") >= auto).then(pl.lit(AUTO))
                           .when(pl.col("probability") >= review).then(pl.lit(REVIEW))
                           .otherwise(pl.lit(REJECT)).alias("band"),
                           pl.lit("model").alias("method"))])
    order = lf.select(pl.col("key").alias("left"), pl.int_range(pl.len()).alias("_order"))
    return (pairs.join(order, on="left", how="left").sort(["_order", "probability", "right"],
                                                            descending=[False, True, False])
            .drop("_order"))


def link(left: Iterable[Record], right: Iterable[Record], *, auto: float, review: float,
         floor: float | None = None, model: dict | None = None, engine: str = "duckdb") -> list[Pair]:
    """`link_frames` for records in memory (a department batch, two files): the pairs as a list."""
    pairs = link_frames(feature_frame(left), feature_frame(right), auto=auto, review=review, floor=floor,
                        model=model, engine=engine)
    return [Pair(*row) for row in pairs.iter_rows()]
