"""core.bulk: frames read from queries (COPY … TO STDOUT on PostgreSQL, rows on SQLite) keep nulls,
empty strings, booleans and dates; long IN lists (a temporary table on PostgreSQL) give the same rows."""
from __future__ import annotations

import datetime as dt

import polars as pl

from fupin.core.bulk import LONG_LIST, frame_from_query, rows_where_in
from fupin.registry.models import Person

SCHEMA = [("id_number", pl.Utf8), ("name", pl.Utf8), ("alive", pl.Boolean), ("death_date", pl.Date),
          ("migrant_place", pl.Utf8), ("household__number", pl.Utf8)]


def test_frame_keeps_nulls_empty_strings_booleans_and_dates(world):
    Person.objects.filter(name="王五").update(alive=False, death_date=dt.date(2026, 3, 4), migrant_place="")
    Person.objects.filter(name="张三").update(migrant_place="浙江,宁波 \"厂\"")
    frame = frame_from_query(Person.objects.filter(name__in=["张三", "王五"]).order_by("name"), SCHEMA)
    assert frame.schema == pl.Schema([("id_number", pl.Utf8), ("name", pl.Utf8), ("alive", pl.Boolean),
                                      ("death_date", pl.Date), ("migrant_place", pl.Utf8),
                                      ("household_number", pl.Utf8)])
    rows = frame.select("name", "alive", "death_date", "migrant_place", "household_number").rows()
    assert rows == [("张三", True, None, "浙江,宁波 \"厂\"", "H1"), ("王五", False, dt.date(2026, 3, 4), "", "H2")]


def test_a_text_that_reads_like_null_stays_text(world):
    Person.objects.filter(name="马六").update(migrant_place="\\N")
    frame = frame_from_query(Person.objects.filter(name="马六"), [("name", pl.Utf8), ("migrant_place", pl.Utf8)])
    assert frame.rows() == [("马六", "\\N")]


def test_empty_result_has_the_schema(world):
    frame = frame_from_query(Person.objects.filter(name="无此人"), SCHEMA[:3])
    assert frame.height == 0 and frame.columns == ["id_number", "name", "alive"]


def test_a_long_in_list_finds_exactly_the_rows_of_a_short_one(world):
    people = dict(Person.objects.values_list("pk", "name"))
    ids = sorted(people) + list(range(10**9, 10**9 + LONG_LIST))     # longer than LONG_LIST, few exist
    found = rows_where_in(Person.objects.all(), "id", ids, "id", "name")
    assert sorted(found) == sorted(people.items()) and len(found) == 6
    names = rows_where_in(Person.objects.all(), "id_number", [f"x{i}" for i in range(LONG_LIST)] + ["nobody"],
                          "name")
    assert names == []
