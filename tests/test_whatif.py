"""Policy what-if (issue 20): the demo county's three scenarios against one-by-one computation,
nothing written to the ledger or the registry, the form and the YAML overlay, access, the
pack-change approval, the Excel export, the one-page brief rendered."""
from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess

import polars as pl
import pytest
import yaml

from fupin.core.models import AuditEvent, User
from fupin.policy.packs import PackSet, parse_pack, shipped_packs
from fupin.policy.whatif import Rosters, compare, histogram, one_by_one, overlay

YEAR = 2026


@pytest.fixture(scope="module")
def county_data(django_db_setup, django_db_blocker):
    """Built once for the module inside a transaction that is rolled back at its end; each test
    runs in a savepoint inside it (its changes are undone after it, as usual)."""
    from django.db import transaction

    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield build_county()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture
def county(county_data, db):
    return county_data


def build_county():
    """A small demo county: the generator's households, a roster, assistance recipients, two
    stays in hospital for some poor patients, and the three demo scenarios, each run once."""
    import random

    from fupin.demo import generator
    from fupin.demo import welfare as demo_welfare
    from fupin.demo import whatif as demo_whatif
    from fupin.education.models import Enrolment, School
    from fupin.funds import services as funds
    from fupin.health.models import Hospital
    from fupin.registry.models import Person

    c = generator.generate(260, min_villages=3, seed=11)
    generator.seed_database(c)
    generator.seed_demo_users(c)
    officer = User.objects.get(username="county")
    township = next(code for code, _, lv, _ in c.regions if lv == 4)
    village = next(code for code, _, lv, p in c.regions if lv == 5 and p == township)
    primary = School.objects.create(code="10001", name="中心小学", region_id=village)
    middle = School.objects.create(code="10002", name="中学", region_id=village)
    rng = random.Random(5)
    rows = []
    for p in Person.objects.filter(alive=True, schooling__in=["primary", "junior", "senior"]).order_by("pk"):
        for sem in (f"{YEAR}-spring", f"{YEAR}-autumn"):
            rows.append(Enrolment(person=p, school=primary if p.schooling == "primary" else middle, semester=sem,
                                  stage=p.schooling, grade=2, boarding=rng.random() < 0.5,
                                  fee=120000 if p.schooling == "senior" else 0))
    Enrolment.objects.bulk_create(rows)
    Hospital.objects.create(code="H513435", name="甘洛县人民医院", region_id=generator.COUNTY[0], level="county")
    for code, name in (("jzfp", "健康扶贫救助基金"), ("axjj", "慈善爱心救助基金")):
        account = funds.topup_fund_account(region_code=generator.COUNTY[0], fund=code, name=name)
        funds.budget_allocate(actor=officer, budget=account, amount=500_000_000, date=dt.date(YEAR, 1, 10),
                              decision_id=f"演示拨款-{code}")
    demo_welfare.seed(c, actor=officer, today=dt.date(YEAR, 11, 1))
    demo_whatif.seed(c, year=YEAR)
    return c


def scenario(name_start: str):
    from fupin.whatif.models import Scenario

    return Scenario.objects.get(name__startswith=name_start)


def test_the_three_demo_scenarios_equal_one_by_one_computation(county):
    from fupin.education.models import Enrolment
    from fupin.whatif import selectors
    from fupin.whatif.services import scenario_packs

    boarding, dibao, cap = scenario("寄宿生"), scenario("低保"), scenario("个人自付")
    region = boarding.region
    rosters = selectors.rosters(region, YEAR)
    assert rosters.education.height == Enrolment.objects.count() == 2 * (rosters.education.height // 2)
    assert rosters.health.height == 60   # 30 patients, two stays each
    base = shipped_packs()
    current = one_by_one(rosters, base)
    for s in (boarding, dibao, cap):
        result = s.results.get()
        changed = one_by_one(rosters, scenario_packs(s))
        assert result.summary["total_current"] == sum(current.values())
        assert result.summary["total_scenario"] == sum(changed.values())
        # household by household, the batch equals the cases computed one at a time
        table = selectors.result_households(result)
        by_household: dict[int, list[int]] = {}
        hh = household_of(rosters)
        for person, amount in current.items():
            by_household.setdefault(hh[person], [0, 0])[0] += amount
        for person, amount in changed.items():
            by_household.setdefault(hh[person], [0, 0])[1] += amount
        assert {h: [a, b] for h, a, b in table.select("_household", "current", "scenario").iter_rows()} == by_household
    # the boarding subsidy +200 a year is +100 a semester for each eligible boarding pupil, nothing else
    funds = {f["fund"]: f["change"] for f in boarding.results.get().summary["funds"]}
    eligible = rosters.education.filter(pl.col("boarding") & pl.col("stage").cast(pl.String).is_in(["primary", "junior"])
                                        & (pl.col("registered_poor") | pl.col("dibao") | pl.col("tekun"))).height
    assert eligible > 0
    assert funds["教育资助资金"] == eligible * 10000
    assert {k for k, v in funds.items() if v} == {"教育资助资金"}
    # 低保 at 450 instead of 480 a month: each 低保 month pays (standard − income) × members, plus
    # the category's add-on per member (A 60, B 30 yuan in the Sichuan pack) while below the standard
    w = rosters.welfare.filter(pl.col("programme") == "dibao")
    extra = {"class_a": 6000, "class_b": 3000, "ordinary": 0}

    def paid(standard, income, members, category):
        return (standard - income + extra[category]) * members if standard > income else 0
    expected = sum(paid(45000, i, m, c) - paid(48000, i, m, c)
                   for i, m, c in w.select("income", "members", "category").iter_rows())
    assert expected < 0
    dib = {f["fund"]: f["change"] for f in dibao.results.get().summary["funds"]}
    assert dib["社会救助：最低生活保障金"] == expected
    assert {k for k, v in dib.items() if v} == {"社会救助：最低生活保障金"}
    # a lower self-pay cap: the top-up funds pay exactly what the patients no longer pay
    c = {f["fund"]: f["change"] for f in cap.results.get().summary["funds"]}
    assert c["个人自付"] < 0
    assert c["健康扶贫救助基金"] + c["慈善爱心救助基金"] == -c["个人自付"]
    assert cap.results.get().summary["total_scenario"] - cap.results.get().summary["total_current"] == -c["个人自付"]


def household_of(r: Rosters) -> dict[int, int]:
    rows = pl.concat([f.select("_person", "_household") for f in (r.education, r.welfare, r.health) if f is not None])
    return dict(rows.unique().iter_rows())


def _ledger_and_registry():
    from fupin.education.models import RunLine, SubsidyRun
    from fupin.funds.models import Account, Entry, Transaction
    from fupin.health.models import Accumulator, Claim
    from fupin.registry.models import Household, Person
    from fupin.welfare.models import Enrolment, PaymentRun

    return {"entries": Entry.objects.count(), "transactions": Transaction.objects.count(),
            "accounts": Account.objects.count(), "claims": Claim.objects.count(),
            "accumulators": sorted(Accumulator.objects.values_list("person_id", "key", "amount")),
            "households": sorted(Household.objects.values_list("pk", "status", "updated_at")),
            "persons": sorted(Person.objects.values_list("pk", "assistance", "updated_at")),
            "runs": SubsidyRun.objects.count() + PaymentRun.objects.count() + RunLine.objects.count(),
            "enrolments": sorted(Enrolment.objects.values_list("pk", "monthly_amount")),
            "registry_audit": AuditEvent.objects.exclude(household_id=None).count()}


def test_a_run_through_the_screen_writes_nothing_to_the_ledger_or_the_registry(county, client):
    from fupin.whatif.models import Result

    s = scenario("个人自付")
    client.force_login(User.objects.get(username="county"))
    before = _ledger_and_registry()
    audit_before = set(AuditEvent.objects.values_list("pk", flat=True))
    r = client.post(f"/whatif/{s.pk}/run/")
    assert r.status_code == 302 and r["Location"].startswith("/jobs/")
    job_page = client.get(r["Location"]).content.decode()
    assert f"/whatif/{s.pk}/" in job_page and "已测算" in job_page
    assert _ledger_and_registry() == before
    new = AuditEvent.objects.exclude(pk__in=audit_before)
    assert sorted(new.values_list("object_type", flat=True)) == ["job", "whatif_result"]
    assert s.results.count() == 2
    first, second = s.results.order_by("id")
    assert first.summary == second.summary   # the same registry gives the same answer
    assert Result.objects.count() == 4


def test_the_scenario_page_shows_costs_chart_and_the_most_affected_households_masked(county, client):
    from fupin.core import idcard
    from fupin.registry.models import Person

    s = scenario("寄宿生")
    client.force_login(User.objects.get(username="county"))
    page = client.get(f"/whatif/{s.pk}/").content.decode()
    summary = s.results.get().summary
    assert f'<b id="total-scenario">{summary["total_scenario"] // 100:,}.{summary["total_scenario"] % 100:02d}</b>' in page
    assert 'id="chart-data"' in page and "whatif.js" in page
    import re

    shown_text = re.sub(r"<[^>]+>", " ", page)   # what is on the screen (an input's name is not)
    assert "education." not in shown_text and "sc-513435" not in shown_text and "whatif" not in shown_text
    heads = Person.objects.filter(relation="head")
    shown = [p for p in heads if idcard.mask(p.id_number) in page]
    assert shown and not any(p.id_number in page for p in heads)
    assert not any(p.birth_date.isoformat() in page for p in shown)


def test_the_household_page_puts_both_explanations_side_by_side(county, client):
    from fupin.whatif import selectors

    s = scenario("寄宿生")
    top = selectors.result_households(s.results.get()).filter(pl.col("change") > 0).sort("_household").row(0, named=True)
    client.force_login(User.objects.get(username="county"))
    page = client.get(f"/whatif/{s.pk}/households/{top['_household']}/").content.decode()
    assert "义务教育生活补助" in page
    assert "寄宿生生活补助" in page and "测算情景“寄宿生生活补助每年提高200元”（尚未生效）" in page
    # the junior boarding subsidy reads 1250 now and 1450 in the scenario (or primary 1000 → 1200)
    assert ("1250.00 元" in page and "1450.00 元" in page) or ("1000.00 元" in page and "1200.00 元" in page)


def test_the_form_saves_only_changed_values_and_refuses_bad_ones_in_chinese(county, client):
    from fupin.whatif.models import Scenario

    client.force_login(User.objects.get(username="county"))
    base = {"region": "513435000000", "year": str(YEAR), "name": "自付封顶12%", "note": ""}
    r = client.post("/whatif/", {**base, "p:health.topup.cap_share": "1.2", "p:welfare.dibao.standard_per_month": "480"})
    page = r.content.decode()
    assert r.status_code == 200 and "比例“1.2”应在 0 到 1 之间" in page
    r = client.post("/whatif/", {**base, "p:welfare.dibao.standard_per_month": "480.00"})
    assert "没有改动任何参数" in r.content.decode()
    r = client.post("/whatif/", {**base, "p:health.topup.cap_share": "12%", "p:welfare.dibao.standard_per_month": "480"})
    made = Scenario.objects.get(name="自付封顶12%")
    assert r.status_code == 302 and made.changes == {"health.topup.cap_share": "0.12"}
    r = client.post("/whatif/", {**base, "p:health.topup.cap_share": "0.2"})
    assert "本区划已有同名情景" in r.content.decode()


def test_a_yaml_overlay_upload_makes_a_scenario_and_a_wrong_one_is_refused(county, client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from fupin.whatif.models import Scenario

    client.force_login(User.objects.get(username="civil"))
    text = "name: 特困分散供养提高\nyear: 2026\nparameters:\n  welfare.tekun.dispersed_per_month: 800\n"
    r = client.post("/whatif/", {"region": "513435000000", "year": "2026",
                                 "file": SimpleUploadedFile("s.yaml", text.encode(), "text/yaml")})
    assert r.status_code == 302
    assert Scenario.objects.get(name="特困分散供养提高").changes == {"welfare.tekun.dispersed_per_month": "800.00"}
    bad = "name: 错\nyear: 2026\nparameters:\n  welfare.no_such: 1\n"
    r = client.post("/whatif/", {"region": "513435000000", "year": "2026",
                                 "file": SimpleUploadedFile("b.yaml", bad.encode(), "text/yaml")})
    assert "welfare.no_such：没有这个可测算的参数" in r.content.decode()


def test_access_other_regions_scenarios_are_not_found_and_roles_without_the_right_are_refused(county, client):
    from fupin.core.models import AuditResult, Region
    from fupin.whatif.models import Scenario

    s = scenario("低保")
    Region.objects.create(code="513436000000", name="美姑县", level=3, parent_id=s.region.parent_id)
    other = User.objects.create(username="other", role="county_officer", region_id="513436000000",
                                password_changed_at=s.created_at)
    client.force_login(other)
    assert client.get(f"/whatif/{s.pk}/").status_code == 404
    assert client.get(f"/whatif/{s.pk}/result.xlsx").status_code == 404
    client.force_login(User.objects.get(username="school"))
    assert client.get("/whatif/").status_code == 403
    assert client.post(f"/whatif/{s.pk}/run/").status_code == 403
    assert AuditEvent.objects.filter(result=AuditResult.DENIED, actor__username="school").count() == 2
    assert Scenario.objects.count() == 3 and s.results.count() == 1


def test_a_scenario_becomes_a_dated_pack_version_through_the_pack_change_procedure(county, client):
    from fupin.whatif import selectors, services
    from fupin.whatif.models import ProposalState

    s = scenario("低保")
    civil, county_officer, admin = (User.objects.get(username=u) for u in ("civil", "county", "admin"))
    client.force_login(civil)
    r = client.post(f"/whatif/{s.pk}/propose/", {"effective": "2025-01-01", "source": "甘府发〔2026〕1号"})
    assert s.proposals.count() == 0   # the pack already has a value from 2025-01-01: a new line must be later
    r = client.post(f"/whatif/{s.pk}/propose/", {"effective": "2026-01-01", "source": "甘府发〔2026〕1号"})
    proposal = s.proposals.get()
    assert r["Location"] == f"/whatif/proposals/{proposal.pk}/"
    assert [st["key"] for st in proposal.steps] == ["office_review", "group_decision"]
    # the proposer cannot approve; the county office reviews, then someone else decides
    r = client.post(f"/whatif/proposals/{proposal.pk}/", {"decision": "approve"})
    proposal.refresh_from_db()
    assert proposal.step == 0 and proposal.decisions == []
    client.force_login(county_officer)
    client.post(f"/whatif/proposals/{proposal.pk}/", {"decision": "approve", "comment": "同意"})
    client.post(f"/whatif/proposals/{proposal.pk}/", {"decision": "approve"})   # not twice by one person
    proposal.refresh_from_db()
    assert proposal.step == 1 and len(proposal.decisions) == 1
    assert client.get(f"/whatif/proposals/{proposal.pk}/pack.yaml").status_code == 400
    client.force_login(admin)
    client.post(f"/whatif/proposals/{proposal.pk}/", {"decision": "approve"})
    proposal.refresh_from_db()
    assert proposal.state == ProposalState.APPROVED
    text = client.get(f"/whatif/proposals/{proposal.pk}/pack.yaml").content.decode()
    doc = yaml.safe_load(text)
    assert doc["parameters"]["welfare.dibao.standard_per_month"]["values"][-1] == {
        "from": dt.date(2026, 1, 1), "value": 450, "source": "甘府发〔2026〕1号"}
    assert len(doc["parameters"]["welfare.dibao.standard_per_month"]["values"]) == 3   # old lines kept
    # what was simulated is what becomes law: the new pack computes what the scenario did
    new = parse_pack(doc, "sc-513435.yaml")
    law = PackSet([p for p in shipped_packs().packs.values() if p.name != new.name] + [new])
    rosters = selectors.rosters(s.region, YEAR)
    as_law = compare(rosters, law, services.scenario_packs(s), region_digits=9)
    assert as_law.total_current == as_law.total_scenario == s.results.get().summary["total_scenario"]


def test_the_excel_export_lists_the_totals_funds_and_every_changed_household(county, client):
    from openpyxl import load_workbook

    from fupin.whatif import selectors

    s = scenario("低保")
    result = s.results.get()
    client.force_login(User.objects.get(username="county"))
    r = client.get(f"/whatif/{s.pk}/result.xlsx")
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == ["汇总", "分区划", "各户变化"]
    total = next(row for row in wb["汇总"].iter_rows(values_only=True) if row[0] == "年度费用合计（不含个人自付）")
    assert [int(v * 100) for v in total[1:]] == [result.summary["total_current"], result.summary["total_scenario"],
                                                 result.summary["total_scenario"] - result.summary["total_current"]]
    changed = selectors.result_households(result).filter(pl.col("change") != 0)
    rows = list(wb["各户变化"].iter_rows(min_row=2, values_only=True))
    assert len(rows) == changed.height == result.summary["changed_households"]
    assert sum(int(row[6] * 100) for row in rows) == int(changed["change"].sum())
    assert all("*" in row[3] for row in rows)
    assert AuditEvent.objects.filter(action="export", object_type="whatif_result",
                                     detail__persons=changed.height).count() == 1


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="Debian poppler-utils is not installed")
def test_the_brief_is_one_page_and_renders(county, client, tmp_path):
    from PIL import Image

    s = scenario("个人自付")
    client.force_login(User.objects.get(username="health"))
    r = client.get(f"/whatif/{s.pk}/brief.pdf")
    assert r["Content-Type"] == "application/pdf"
    path = tmp_path / "brief.pdf"
    path.write_bytes(r.content)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    assert [line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")] == ["1"]
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    summary = s.results.get().summary
    assert "政策测算简报：个人自付封顶比例由10%降至8%" in text
    assert f"{summary['total_current'] // 100:,}.{summary['total_current'] % 100:02d}" in text
    assert "健康扶贫救助基金" in text and "☒" not in text
    subprocess.run(["pdftoppm", "-r", "60", "-png", "-singlefile", str(path), str(tmp_path / "page")], check=True)
    img = Image.open(tmp_path / "page.png").convert("L")
    px = img.load()
    dark = sum(1 for x in range(0, img.width, 2) for y in range(0, img.height, 2) if px[x, y] < 128)
    assert dark > 2000   # text, tables and the chart's bars are on the page


def test_overlay_refuses_what_a_pack_refuses_and_the_histogram_counts_exactly():
    from fupin.policy.errors import PolicyError

    with pytest.raises(PolicyError, match="比例 1.5 应为0到1之间"):
        overlay(shipped_packs(), "513435", {"health.topup.cap_share": "1.5"}, "错")
    with pytest.raises(PolicyError, match="没有可测算的参数 workflow.exit"):
        overlay(shipped_packs(), "513435", {"workflow.exit": "x"}, "错")
    packs = overlay(shipped_packs(), "513435", {"welfare.dibao.standard_per_month": "450"}, "低保450")
    assert packs.for_region("513435100200").lookup("welfare.dibao.standard_per_month", dt.date(2026, 5, 1)).value == 45000
    assert packs.for_region("513436100200").lookup("welfare.dibao.standard_per_month", dt.date(2026, 5, 1)).value == \
        shipped_packs().for_region("513436100200").lookup("welfare.dibao.standard_per_month", dt.date(2026, 5, 1)).value
    counts = histogram(pl.Series([0, 0, -10000, -50001, 1, 10000, 10001, 600000, -600000]))
    assert counts == [{"label": "不变", "count": 2}, {"label": "减少5000元以上", "count": 1},
                      {"label": "减少500～1000元", "count": 1}, {"label": "减少100～500元", "count": 1},
                      {"label": "增加100元以内", "count": 2}, {"label": "增加100～500元", "count": 1},
                      {"label": "增加5000元以上", "count": 1}]


def test_the_list_of_changed_households_pages_sorts_and_filters(county, client):
    from fupin.whatif import selectors

    s = scenario("低保")
    table = selectors.result_households(s.results.get())
    down = table.filter(pl.col("change") < 0)
    client.force_login(User.objects.get(username="civil"))
    page = client.get(f"/whatif/{s.pk}/households/?direction=down&sort=change").content.decode()
    assert f'<small id="total">{down.height}</small>' in page
    assert page.count("两种计算对照") == min(50, down.height)
    first = down.sort("change", "_household").row(0, named=True)
    assert page.index(f"/households/{first['_household']}/") < page.index("</tbody>")
    assert client.get(f"/whatif/{s.pk}/households/?direction=up").content.decode().count("两种计算对照") == 0
