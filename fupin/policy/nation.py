"""The national batch (the nation tier): every rule of every model over a roster stored by county,
on Apache Spark, with the same compiled Polars rules the single-machine engine runs.

A roster is a Parquet dataset per model, partitioned by county (`<roster>/<model>/county=<6
digits>/*.parquet`), one row per person: `person_id` and the model's inputs. Each Spark task
hands its Arrow batches to `run_batch` (`mapInArrow`), so a row's amounts are computed by the
same code as on one machine, and the results equal `run_batch` over the whole roster row for
row (tests/test_nation.py). Output: `<out>/<model>/county=…/*.parquet`, `person_id` and one
Int64 column (fen) per rule.

PySpark is an optional extra (requirements-spark.txt, Java 17): nothing else imports this
module. The same command runs locally (`local[2]`) and, unchanged, under spark-submit on a
cluster (docs/nation.md).
"""
from __future__ import annotations

import os
import re
import sys
import tempfile

from .engine import Model, run_batch
from .errors import PolicyError
from .packs import shipped_packs
from .rules import education, welfare

MODELS: dict[str, Model] = {"education": education.MODEL, "welfare": welfare.MODEL}
KEY = "person_id"
PARTITION = "county"
REFUSED = "FUPIN-NATION-REFUSED:"   # marks the engine's message inside Spark's error text


def rule_names(model: Model) -> list[str]:
    return [r.name for r in model.rules]


def compute(model: Model, frame, packs=None):
    """One batch of a county's roster through the engine: `person_id`, `county` and one column per
    rule. A refused row names the person, not the row number inside the batch."""
    import polars as pl

    try:
        out = run_batch(model, frame, packs or shipped_packs())
    except PolicyError as exc:
        m = re.match(r"(?:名册)?第(\d+)[条行]：?", exc.message)
        if m:
            row = frame.row(int(m.group(1)) - 1, named=True)
            raise PolicyError(f"人员编号 {row[KEY]}：{exc.message[m.end():]}") from None
        raise
    return out.select(pl.col(KEY).cast(pl.Int64), pl.col(PARTITION).cast(pl.String), *rule_names(model))


def local(model: Model, roster_dir: str):
    """The single-machine engine over the whole roster (the baseline the Spark run must equal)."""
    import polars as pl

    frame = pl.read_parquet(os.path.join(roster_dir, "**", "*.parquet"), hive_partitioning=True,
                            hive_schema={PARTITION: pl.String})
    return compute(model, frame)


def session(master: str | None = None, app: str = "fupin-nation"):
    """Local mode here (FUPIN_SPARK_MASTER, default local[2]); under spark-submit the cluster's
    master and resources come from spark-submit and nothing here overrides them."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName(app)
    if master or not os.environ.get("SPARK_ENV_LOADED"):
        # local workers run this interpreter (its polars and pyarrow), not the first python3 on PATH
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        builder = builder.master(master or os.environ.get("FUPIN_SPARK_MASTER", "local[2]")) \
            .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false") \
            .config("spark.driver.memory", os.environ.get("FUPIN_SPARK_DRIVER_MEMORY", "2g")) \
            .config("spark.local.dir", tempfile.gettempdir())
    # county codes are text ("000123" must stay "000123"); Arrow batches large enough that the
    # engine's per-call work (pack look-up, plan) is small next to the rows
    builder = builder.config("spark.sql.sources.partitionColumnTypeInference.enabled", "false") \
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", os.environ.get("FUPIN_NATION_BATCH", "250000"))
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _schema(model: Model):
    from pyspark.sql.types import LongType, StringType, StructField, StructType

    return StructType([StructField(KEY, LongType(), False), StructField(PARTITION, StringType(), True)]
                      + [StructField(n, LongType(), True) for n in rule_names(model)])


def _mapper(name: str):
    """The function each task runs on its Arrow batches (picklable: it names the model)."""
    def run(batches):
        import polars as pl
        import pyarrow as pa

        model = MODELS[name]
        target = pa.schema([pa.field(KEY, pa.int64()), pa.field(PARTITION, pa.string())]
                           + [pa.field(n, pa.int64()) for n in rule_names(model)])
        for batch in batches:
            if batch.num_rows == 0:
                continue
            try:
                out = compute(model, pl.from_arrow(pa.Table.from_batches([batch])))
            except PolicyError as exc:
                raise RuntimeError(f"{REFUSED}{exc.message}") from None
            yield from out.to_arrow().cast(target).to_batches()
    return run


def spark_run(spark, name: str, roster_dir: str, out_dir: str | None = None):
    """One model over its roster on Spark: a DataFrame of results, written to `out_dir` by county
    when given."""
    model = MODELS[name]
    roster = spark.read.parquet(roster_dir)
    missing = [n for n in [KEY, PARTITION, *model.inputs] if n not in roster.columns]
    if missing:
        raise PolicyError(f"名册 {roster_dir} 缺少列：{'、'.join(missing)}")
    result = roster.mapInArrow(_mapper(name), _schema(model))
    if out_dir:
        result.write.mode("overwrite").partitionBy(PARTITION).parquet(out_dir)
    return result


def refusal(exc: Exception) -> str | None:
    """The engine's Chinese message inside a failed Spark job's error, if that is why it failed."""
    m = re.search(re.escape(REFUSED) + r"(.*)", str(exc))
    return m.group(1).strip() if m else None


def run(roster: str, out: str, models: list[str] | None = None, master: str | None = None) -> dict[str, int]:
    """`fupin nation`: each model whose roster is present, on Spark; returns rows per model."""
    local_dir = "://" not in roster   # an hdfs:// or s3a:// roster is not looked at from here
    names = models or [n for n in MODELS if not local_dir or os.path.isdir(os.path.join(roster, n))]
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        raise PolicyError(f"没有这些计算模型：{'、'.join(unknown)}；可选：{'、'.join(MODELS)}")
    absent = [n for n in names if local_dir and not os.path.isdir(os.path.join(roster, n))]
    if absent or not names:
        raise PolicyError(f"名册目录 {roster} 中没有{'、'.join(absent) or '任何模型'}的名册（应为 <名册目录>/<模型>/county=<区县代码>/*.parquet）")
    spark = session(master)
    counts = {}
    try:
        for name in names:
            target = os.path.join(out, name)
            try:
                spark_run(spark, name, os.path.join(roster, name), target)
            except Exception as exc:  # noqa: BLE001 - a refused row comes back inside Spark's error
                message = refusal(exc)
                if message is None:
                    raise
                raise PolicyError(f"{name} 名册无法计算，未输出结果：{message}") from None
            counts[name] = spark.read.parquet(target).count()
    finally:
        if master or not os.environ.get("SPARK_ENV_LOADED"):
            spark.stop()
    return counts
