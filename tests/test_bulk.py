"""core.bulk: frames read from queries (COPY … TO STDOUT on PostgreSQL, rows on SQLite) keep nulls,
empty strings, booleans and dates; long IN lists (a temporary table on PostgreSQL) give the same rows."""
from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from django.db import IntegrityError, connection, transaction

from fupin.core.bulk import LONG_LIST, SET_BASED_CHECKS, frame_from_query, insert_frame, rows_where_in
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


def _events(world, n: int, bad_household: int | None = None) -> pl.DataFrame:
    person = Person.objects.get(name="张三")
    to = [person.household_id] * n
    if bad_household is not None:
        to[n // 2] = bad_household
    return pl.DataFrame({"kind": ["birth"] * n, "person_id": [person.pk] * n, "to_household_id": to,
                         "date": [dt.date(2026, 1, 2)] * n, "note": [f"批量{i}" for i in range(n)]},
                        schema={"kind": pl.Utf8, "person_id": pl.Int64, "to_household_id": pl.Int64,
                                "date": pl.Date, "note": pl.Utf8})


@pytest.mark.parametrize("n", [10, SET_BASED_CHECKS])   # per-row checks; set-based ones on PostgreSQL
def test_a_bulk_insert_keeps_every_reference_and_refuses_a_missing_one(world, n):
    from fupin.registry.models import MembershipEvent

    before = MembershipEvent.objects.count()
    with transaction.atomic():
        assert insert_frame(MembershipEvent, _events(world, n)) == n
        connection.check_constraints()   # what COMMIT checks, asked now
    assert MembershipEvent.objects.count() == before + n
    assert MembershipEvent.objects.filter(note=f"批量{n - 1}", to_household__number="H1").count() == 1
    with pytest.raises(IntegrityError):
        with transaction.atomic():
            insert_frame(MembershipEvent, _events(world, n, bad_household=10 ** 9))
            connection.check_constraints()
    assert MembershipEvent.objects.count() == before + n    # the refused batch left nothing
