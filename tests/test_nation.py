"""The nation tier: `fupin nation` runs every rule of every model on Spark (mapInArrow with the
compiled Polars rules) over a roster partitioned by county, and its results equal the
single-machine engine row for row. Spark is an optional extra: its tests run with
FUPIN_TEST_SPARK=1 (`python3 dev.py test-spark`, which CI runs)."""
from __future__ import annotations

import importlib.util
import os

import polars as pl
import pytest

from fupin.cli.main import main
from fupin.demo import nation as roster
from fupin.policy import nation
from fupin.policy.engine import run_batch
from fupin.policy.errors import PolicyError
from fupin.policy.packs import shipped_packs

spark_only = pytest.mark.skipif(not os.environ.get("FUPIN_TEST_SPARK"),
                                reason="Spark is an optional extra (pyspark, Java 17); run with FUPIN_TEST_SPARK=1")


def read(directory) -> pl.DataFrame:
    return pl.read_parquet(os.path.join(directory, "**", "*.parquet"), hive_partitioning=True,
                           hive_schema={"county": pl.String})


def test_the_roster_covers_every_pack_and_is_stored_by_county(tmp_path):
    written = roster.write_roster(str(tmp_path), {"education": 3000, "welfare": 2000}, n_counties=9, slice_rows=1000)
    assert written == {"education": 3000, "welfare": 2000}
    frame = read(tmp_path / "education")
    assert frame.height == 3000 and frame["person_id"].sort().to_list() == list(range(1, 3001))
    assert sorted(os.listdir(tmp_path / "education")) == sorted(f"county={c}" for c in roster.counties(9))
    chains = {shipped_packs().for_region(c).head.name for c in frame["region"].unique().to_list()}
    assert chains == {"cn-national", "gs-province", "hb-province", "hn-433127", "sc-513435", "sc-province",
                      "shili-2024"}
    # every row's region lies in its county
    assert frame.filter(pl.col("region").str.slice(0, 6) != pl.col("county")).height == 0


def test_one_batch_is_the_engine_and_a_refused_row_names_the_person():
    frame = roster.education_roster(500, seed=7, first_id=1001)
    got = nation.compute(nation.MODELS["education"], frame)
    expected = run_batch(nation.MODELS["education"], frame, shipped_packs())
    assert got.columns == ["person_id", "county", *nation.rule_names(nation.MODELS["education"])]
    assert got.equals(expected.select(got.columns))
    bad = frame.with_columns(pl.when(pl.col("person_id") == 1234).then(pl.lit("kindergarten"))
                             .otherwise(pl.col("stage")).alias("stage"))
    with pytest.raises(PolicyError) as exc:
        nation.compute(nation.MODELS["education"], bad)
    assert exc.value.message.startswith("人员编号 1234：")
    assert "学段" in exc.value.message and "第234条" not in exc.value.message


def test_without_pyspark_the_command_says_what_to_install(tmp_path, capsys):
    if importlib.util.find_spec("pyspark") is not None:
        pytest.skip("pyspark is installed here")
    assert main(["nation", str(tmp_path), str(tmp_path / "out")]) == 2
    assert "pip install -r requirements-spark.txt" in capsys.readouterr().err


@spark_only
def test_spark_equals_the_single_machine_engine_row_for_row(tmp_path, capsys):
    pytest.importorskip("pyspark")
    src, out = tmp_path / "roster", tmp_path / "out"
    roster.write_roster(str(src), {"education": 6000, "welfare": 4000}, n_counties=11, slice_rows=2500)
    assert main(["nation", str(src), str(out), "--master", "local[2]"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[:2] for line in printed] == [["education", "6000 人"], ["welfare", "4000 人"]]
    for name, n in (("education", 6000), ("welfare", 4000)):
        model = nation.MODELS[name]
        whole = pl.read_parquet(os.path.join(src, name, "**", "*.parquet"), hive_partitioning=True,
                                hive_schema={"county": pl.String})
        expected = run_batch(model, whole, shipped_packs()) \
            .select("person_id", "county", *nation.rule_names(model)).sort("person_id")
        got = read(out / name).select(expected.columns).sort("person_id")
        assert got.height == n
        assert got.equals(expected)
        assert sum(got.select(pl.sum_horizontal(nation.rule_names(model))).to_series()) > 0
    # a roster with one row no case would accept: refused whole, the person named, exit 1
    bad = src / "education" / "county=513435" / "part-9999.parquet"
    pl.DataFrame([roster.education_roster(1, first_id=777_777).drop("county").row(0, named=True)]) \
        .with_columns(pl.lit("kindergarten").alias("stage"), pl.col("date").cast(pl.Date)).write_parquet(bad)
    assert main(["nation", str(src), str(tmp_path / "out2"), "--model", "education", "--master", "local[2]"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("education 名册无法计算，未输出结果：人员编号 777777：") and "学段" in err
    assert not (tmp_path / "out2" / "education" / "_SUCCESS").exists()


def test_batch_over_every_pack_equals_one_case_per_row():
    """The engine maps a region to its pack by the county prefix (one look-up per prefix, not per
    village): every sampled row's amounts equal `run_case` on that row, in each of the 7 packs."""
    from fupin.policy.engine import run_case

    for name, make in roster.MAKERS.items():
        model = nation.MODELS[name]
        frame = make(4000, seed=11, n_counties=14)
        out = run_batch(model, frame, shipped_packs())
        sample = out.gather(list(range(0, 4000, 40)))
        assert {shipped_packs().for_region(c).head.name for c in sample["region"].to_list()} >= {
            "cn-national", "gs-province", "hb-province", "hn-433127", "sc-513435", "sc-province", "shili-2024"}
        for row in sample.iter_rows(named=True):
            case = {k: row[k] for k in model.inputs}
            assert {r.rule: r.amount for r in run_case(model, case, shipped_packs())} == \
                {r: row[r] for r in nation.rule_names(model)}
