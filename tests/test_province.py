"""The province tier's posting path: reads as columnar frames (COPY on PostgreSQL), the already-paid
set of a re-run as a Polars frame, the ledger's invariants kept (balanced, no second payment)."""
import datetime as dt

import polars as pl
import pytest

from fupin.core.bulk import frame_from_query, frame_where_in
from fupin.core.errors import FupinError
from fupin.core.models import Region, User
from fupin.education import services
from fupin.education.models import RunLine
from fupin.funds import services as funds
from fupin.funds.models import Entry

from .conftest import T1
from .test_education import SEM, edu  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


def test_a_frame_read_keeps_text_nulls_booleans_and_dates_exactly():
    Region.objects.create(code="990000000000", name='甲,"乙"\n丙', level=1, valid_from=dt.date(2024, 3, 1))
    Region.objects.create(code="990100000000", name="", level=2, parent_id="990000000000")
    User.objects.create(username="u1", role="auditor", region_id="990100000000", is_demo=True)
    User.objects.create(username="u2", role="auditor", region_id="990000000000", is_demo=False)
    regions = frame_from_query(Region.objects.filter(code__startswith="99").order_by("code"), [
        ("code", pl.Utf8), ("name", pl.Utf8), ("level", pl.Int64), ("valid_from", pl.Date), ("parent_id", pl.Utf8)])
    assert regions.rows() == [("990000000000", '甲,"乙"\n丙', 1, dt.date(2024, 3, 1), None),
                              ("990100000000", "", 2, None, "990000000000")]
    users = frame_from_query(User.objects.filter(username__in=["u1", "u2"]).order_by("username"),
                             [("username", pl.Utf8), ("is_demo", pl.Boolean), ("region__level", pl.Int64)])
    assert users.schema == pl.Schema({"username": pl.String, "is_demo": pl.Boolean, "region_level": pl.Int64})
    assert users.rows() == [("u1", True, 2), ("u2", False, 1)]
    empty = frame_from_query(Region.objects.filter(level=9), [("code", pl.Utf8), ("level", pl.Int64)])
    assert (empty.height, empty.schema) == (0, pl.Schema({"code": pl.String, "level": pl.Int64}))


def test_frame_where_in_takes_a_long_list():
    Region.objects.create(code="990000000000", name="甲", level=1)
    Region.objects.create(code="990100000000", name="乙", level=2, parent_id="990000000000")
    wanted = [f"98{i:010d}" for i in range(12_000)] + ["990100000000", "990000000000"]
    got = frame_where_in(Region.objects.all(), "code", wanted, [("code", pl.Utf8), ("parent__name", pl.Utf8)])
    assert sorted(got.rows()) == [("990000000000", None), ("990100000000", "甲")]
    assert frame_where_in(Region.objects.all(), "code", [], [("code", pl.Utf8)]).shape == (0, 1)


def test_a_rerun_reads_the_already_paid_set_as_a_frame_and_posts_nothing(edu, world):  # noqa: F811
    county, township = edu["county"], edu["township"]
    run = services.run_compute(actor=township, semester=SEM, region_code=T1, budget=edu["budget"])
    services.run_approve(actor=county, run_id=run.pk)
    services.run_post(actor=county, run_id=run.pk)
    region = Region.objects.get(code=T1)
    paid = services._already_paid(region, SEM)
    assert isinstance(paid, pl.DataFrame)
    assert sorted(paid.rows()) == sorted([(edu["sib"].pk, "education.nutrition_meals", 50000),
                                          (edu["child"].pk, "education.compulsory_living", 62500),
                                          (edu["child"].pk, "education.nutrition_meals", 50000)])
    entries = Entry.objects.count()
    again = services.run_compute(actor=township, semester=SEM, region_code=T1, budget=edu["budget"])
    assert (again.lines_count, again.total) == (0, 0)
    services.run_approve(actor=county, run_id=again.pk)
    services.run_post(actor=county, run_id=again.pk)
    assert Entry.objects.count() == entries
    assert sum(Entry.objects.values_list("amount", flat=True)) == 0   # every transaction balances
    # posting the first run's payments once more is refused whole: nothing is paid twice
    lines = pl.DataFrame([(x.person_id, x.person.id_number, x.person.name, x.item, x.amount)
                          for x in RunLine.objects.filter(run=run).select_related("person")], orient="row",
                         schema=["person_id", "id_number", "name", "item", "amount"])
    payees = funds.payee_accounts_for_persons(lines.select("person_id", "id_number", "name"))
    payments = lines.join(payees.select("person_id", "payee_id"), on="person_id") \
        .select("payee_id", pl.col("name").alias("payee_name"), pl.col("item").alias("entitlement"), "amount",
                pl.lit(SEM).alias("period"))
    with pytest.raises(FupinError) as exc:
        funds.payments_post_frame(actor=county, budget=edu["budget"], payments=payments, date=dt.date(2024, 10, 1),
                                  decision_type="subsidy_run", decision_id="again")
    assert exc.value.message.endswith("已支付过，共 3 笔重复，本批未支付")
    assert Entry.objects.count() == entries
