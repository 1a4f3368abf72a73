"""Social assistance: amounts from the packs, the application procedure, re-checks and stops,
monthly runs (compute → review → approve by another → post), no double pay, back-pay and
recovery, and batch == one-by-one (Hypothesis)."""
import datetime as dt
import io

import polars as pl
import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from fupin.core import idcard
from fupin.core.errors import AccessDenied, FupinError, InvalidInput
from fupin.core.models import AuditEvent, User
from fupin.core.roles import Role
from fupin.funds import services as funds
from fupin.funds.models import Entry, Transaction
from fupin.policy.engine import run_batch, run_case
from fupin.policy.packs import shipped_packs
from fupin.policy.rules.welfare import CARE_LEVELS, CATEGORIES_OF, MODEL, RULE_OF
from fupin.registry.models import Income, Person
from fupin.welfare import selectors, services
from fupin.welfare.models import AppState, Enrolment, PaymentRun, RunStatus

from .conftest import COUNTY, V1

pytestmark = pytest.mark.usefixtures("on_a_covered_day")   # starts workflows (conftest.on_a_covered_day)

DEC = dt.date(2026, 12, 1)


def amount(**kw):
    case = services.case_for(**{"region": V1, "month": DEC, "category": "ordinary", **kw})
    return services.compute(case)[0]


# ---- amounts from the packs ----------------------------------------------------------------------

def test_dibao_is_the_gap_times_members_plus_the_sichuan_category_extra():
    # 甘洛县 pack: standard 480 yuan from 2025; 四川 A类 +60, B类 +30 per counted member
    assert amount(programme="dibao", income=20000, members=3) == (48000 - 20000) * 3 == 84000
    assert amount(programme="dibao", category="class_a", income=20000, members=3) == 84000 + 6000 * 3
    assert amount(programme="dibao", category="class_b", income=20000, members=2) == 56000 + 3000 * 2
    assert amount(programme="dibao", category="class_a", income=48000, members=3) == 0   # at the standard: nothing
    # before 2025 the county's standard was 300 yuan (seed 003's floor)
    assert services.compute(services.case_for(region=V1, month=dt.date(2024, 6, 1), programme="dibao",
                                              category="ordinary", income=10000, members=2))[0] == 40000


def test_tekun_disability_family_planning_and_temporary_amounts():
    assert amount(programme="tekun", category="centralised", care_level="full") == 43000 + 20000
    assert amount(programme="tekun", category="dispersed", care_level="partial") == 30000 + 10000
    assert amount(programme="tekun", category="dispersed", care_level="self") == 30000
    assert amount(programme="disability_nursing", category="grade1") == 8000   # seed 003: grade 1 ≥ 80
    assert amount(programme="disability_nursing", category="grade2") == 5000   # grade 2 ≥ 50
    assert amount(programme="disability_living") == 5000
    assert amount(programme="fp_reward") == 8000                               # seed 002: 960 a year
    assert amount(programme="fp_special", category="death") == 45000
    assert amount(programme="fp_special", category="disabled") == 35000
    assert amount(programme="temporary", category="disaster") == 150000
    # the yearly limit (3000) caps what is left: 2500 already paid this year → 500
    assert amount(programme="temporary", category="illness", used_this_year=250000) == 50000
    assert amount(programme="temporary", category="illness", used_this_year=300000) == 0
    # outside Sichuan the national pack has no care subsidy (0)
    hunan = services.case_for(region="433127100200", month=DEC, programme="tekun", category="centralised",
                              care_level="full")
    assert services.compute(hunan)[0] == 43000


def test_explanation_is_plain_chinese_with_sources():
    _, ex = services.compute(services.case_for(region=V1, month=DEC, programme="dibao", category="class_a",
                                               income=20000, members=3))
    assert ex["amount"] == "1020.00"
    assert ex["branches"] == ["低保：是", "家庭金融资产超过计入人数的规定月数低保标准：否", "有非生活必需的机动车辆：否",
                              "有商业用房或超过规定套数的住房：否", "有工商登记的企业或个体户：否",
                              "月人均收入低于低保标准：是", "分类施保：A类（重点保障）：是"]
    text = services.explain(ex)
    assert text.startswith("最低生活保障金 1020.00 元：")
    assert "农村最低生活保障标准（每人每月） 480.00元（《扶贫工作计划范文汇编》" in text and "class_a" not in text
    # the asset parameters in words: months as a number, the excluded kinds by their names, no codes
    assert "家庭金融资产上限（低保标准的月数） 24（《最低生活保障审核确认办法》（民发〔2021〕57号）" in text
    assert "不予纳入低保的财产 非生活必需的机动车辆、商业用房或超过规定套数的住房、工商登记的企业或个体户（" in text
    assert "vehicle" not in text and "24元" not in text


PROGS = st.sampled_from(list(CATEGORIES_OF))


@st.composite
def welfare_case(draw):
    programme = draw(PROGS)
    return dict(region=draw(st.sampled_from([V1, "513435101200", "510100100200", "433127100200", "110101001001"])),
                date=draw(st.dates(dt.date(2016, 1, 1), dt.date(2030, 12, 1))).replace(day=1),
                programme=programme, category=draw(st.sampled_from(CATEGORIES_OF[programme])),
                care_level=draw(st.sampled_from(CARE_LEVELS)), income=draw(st.integers(0, 200_000)),
                members=draw(st.integers(0, 12)), used_this_year=draw(st.integers(0, 500_000)),
                # around the asset limit (24 months × 300–480 yuan × members) and each excluding kind
                financial_assets=draw(st.integers(0, 6_000_000)), vehicle=draw(st.booleans()),
                commercial_housing=draw(st.booleans()), houses=draw(st.integers(0, 3)), business=draw(st.booleans()))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(welfare_case(), min_size=1, max_size=25))
def test_batch_equals_one_by_one(cases):
    out = run_batch(MODEL, pl.DataFrame(cases, schema_overrides={"date": pl.Date}), shipped_packs())
    for i, case in enumerate(cases):
        one = {r.rule: r.amount for r in run_case(MODEL, case, shipped_packs())}
        row = out.row(i, named=True)
        assert {r: row[r] for r in one} == one
        assert sum(one.values()) == one[RULE_OF[case["programme"]]]   # only the case's programme pays


# ---- the procedure, enrolment, runs ---------------------------------------------------------------

@pytest.fixture
def clock(monkeypatch):
    state = {"today": dt.date(2026, 11, 2)}
    monkeypatch.setattr(services, "today", lambda: state["today"])
    return state


@pytest.fixture
def wel(world, clock):
    civil = world.users["civil_affairs"]
    civil2 = User.objects.create(username="civil2", role=Role.CIVIL_AFFAIRS, region_id=COUNTY,
                                 password_changed_at=timezone.now())
    county = world.users["county_officer"]
    # 张三's household: 7200 yuan net a year for 3 → 200 yuan a month per head
    Income.objects.create(household=world.h1, year=2025, wages=720000, business=0, transfers=0, property_income=0,
                          costs=0, size=3, recorded_on=dt.date(2026, 1, 10))
    budget = services.budget_for(world.h1.village.parent.parent, "dibao", 2026)
    funds.budget_allocate(actor=county, budget=budget, amount=10_000_000, date=dt.date(2026, 1, 5), decision_id="民财1号")
    return dict(civil=civil, civil2=civil2, budget=budget, village=world.users["village_cadre"],
                township=world.users["township_officer"])


def approve_all(app, wel, clock, assets=None):
    """Every step approved; `assets` (none found by default) recorded at the home visit."""
    actors = {"village": wel["village"], "township": wel["township"], "county": wel["civil"]}
    while app.current:
        step = app.current
        if app.notice_end:
            clock["today"] = app.notice_end + dt.timedelta(days=1)
        app = services.application_act(actor=actors[step["tier"]], application_id=app.pk, step_key=step["key"],
                                       approve=True, verifiers=["王村长", "李队员"], evidence=["核实表001"],
                                       assets=assets or {})
    return app


def test_dibao_application_through_every_step_to_enrolment(world, wel, clock):
    head = world.h1.persons.get(relation="head")
    with pytest.raises(InvalidInput):   # the first step needs consent to check assets
        services.application_start(actor=wel["village"], household_id=world.h1.pk, person_id=head.pk,
                                   programme="dibao", category="ordinary", consent_assets=False)
    app = services.application_start(actor=wel["village"], household_id=world.h1.pk, person_id=head.pk,
                                     programme="dibao", category="ordinary", consent_assets=True, on_behalf=True)
    assert app.step_due == dt.date(2026, 11, 5)   # 3 working days
    services.application_act(actor=wel["village"], application_id=app.pk, step_key="application", approve=True)
    with pytest.raises(InvalidInput) as exc:     # home verification by two people
        services.application_act(actor=wel["village"], application_id=app.pk, step_key="home_verification",
                                 approve=True, verifiers=["王村长"], evidence=["表1"], assets={})
    assert "至少 2 人" in exc.value.message
    with pytest.raises(AccessDenied):            # a township officer cannot act on a village step
        services.application_act(actor=wel["township"], application_id=app.pk, step_key="home_verification",
                                 approve=True, verifiers=["a", "b"], evidence=["表1"])
    for key in ("home_verification", "appraisal", "village_notice"):
        app = services.application_act(actor=wel["village"], application_id=app.pk, step_key=key, approve=True,
                                       verifiers=["王村长", "李队员"], evidence=["核实表001"], assets={})
    assert app.notice_end == dt.date(2026, 11, 8)   # 7 calendar days
    with pytest.raises(FupinError) as exc:
        services.application_act(actor=wel["township"], application_id=app.pk, step_key="township_review", approve=True)
    assert "公示期至 2026-11-08 结束" in exc.value.message
    clock["today"] = dt.date(2026, 11, 9)
    app = services.application_act(actor=wel["township"], application_id=app.pk, step_key="township_review", approve=True)
    app = services.application_act(actor=wel["civil"], application_id=app.pk, step_key="county_approval", approve=True)
    app = services.application_act(actor=wel["civil"], application_id=app.pk, step_key="announcement", approve=True)
    assert app.state == AppState.APPROVED
    assert [(d.step_key, d.actor.username) for d in app.decisions.all()] == [
        ("application", "village_cadre"), ("home_verification", "village_cadre"), ("appraisal", "village_cadre"),
        ("village_notice", "village_cadre"), ("township_review", "township_officer"),
        ("county_approval", "civil_affairs"), ("announcement", "civil_affairs")]
    e = Enrolment.objects.get(application=app)
    assert (e.person_id, e.income, e.members, e.monthly_amount, e.start, e.next_recheck) == (
        head.pk, 20000, 3, 84000, dt.date(2026, 11, 1), dt.date(2027, 11, 1))
    assert sorted(world.h1.persons.values_list("assistance", flat=True)) == ["dibao"] * 3


def test_refused_step_needs_a_reason_and_ends_the_application(world, wel):
    head = world.h1.persons.get(relation="head")
    app = services.application_start(actor=wel["village"], household_id=world.h1.pk, person_id=head.pk,
                                     programme="dibao", category="ordinary", consent_assets=True)
    with pytest.raises(InvalidInput):
        services.application_act(actor=wel["village"], application_id=app.pk, step_key="application", approve=False)
    app = services.application_act(actor=wel["village"], application_id=app.pk, step_key="application",
                                   approve=False, comment="家有营运货车")
    assert app.state == AppState.REJECTED and not Enrolment.objects.exists()


def enrol_dibao(world, wel, clock):
    head = world.h1.persons.get(relation="head")
    app = services.application_start(actor=wel["village"], household_id=world.h1.pk, person_id=head.pk,
                                     programme="dibao", category="ordinary", consent_assets=True)
    approve_all(app, wel, clock)
    return Enrolment.objects.get(person=head, stop__isnull=True)


def paid(person, month):
    return list(Entry.objects.filter(account__person=person, entitlement="welfare.dibao", period=month,
                                     amount__gt=0).values_list("amount", flat=True))


def test_monthly_run_is_reviewed_approved_by_another_and_never_pays_twice(world, wel, clock):
    e = enrol_dibao(world, wel, clock)
    clock["today"] = dt.date(2026, 12, 3)
    run = services.run_compute(actor=wel["civil"], programme="dibao", county_code=COUNTY, month=dt.date(2026, 12, 1))
    run_obj, lines = selectors.review(wel["civil"], run.pk)
    assert [(x.person.name, x.amount, x.flag) for x in lines] == [("张三", 84000, "new")]
    with pytest.raises(AccessDenied):
        services.run_approve(actor=wel["civil"], run_id=run.pk)   # not the person who computed it
    with pytest.raises(FupinError):
        services.run_compute(actor=wel["civil"], programme="dibao", county_code=COUNTY, month=dt.date(2026, 12, 1))
    services.run_approve(actor=wel["civil2"], run_id=run.pk)
    services.run_post(actor=wel["civil2"], run_id=run.pk)
    head = e.person
    assert paid(head, "2026-12") == [84000]
    assert funds.balance(wel["budget"]) == 10_000_000 - 84000
    # a second run of the month pays nobody again
    again = services.run_compute(actor=wel["civil"], programme="dibao", county_code=COUNTY, month=dt.date(2026, 12, 1))
    assert (again.lines_count, again.total) == (0, 0)
    services.run_approve(actor=wel["civil2"], run_id=again.pk)
    services.run_post(actor=wel["civil2"], run_id=again.pk)
    assert paid(head, "2026-12") == [84000]
    with pytest.raises(FupinError):    # posting the posted run again
        services.run_post(actor=wel["civil2"], run_id=run.pk)
    with pytest.raises(FupinError) as exc:   # back-pay of a month already paid: the ledger refuses
        services.back_pay(actor=wel["civil2"], enrolment_id=e.pk, month=dt.date(2026, 12, 1), reason="补发")
    assert "重复支付" in exc.value.message
    # November was approved late: back-pay with a reason, once
    services.back_pay(actor=wel["civil2"], enrolment_id=e.pk, month=dt.date(2026, 11, 1), reason="审批在11月完成")
    assert paid(head, "2026-11") == [84000]
    # bank list: amounts are numbers, the account masked for the reader without REVEAL_BANK
    book = load_workbook(io.BytesIO(selectors.payment_list(wel["civil"], run.pk)))
    ws = book.worksheets[1]
    row = [c.value for c in ws[2]]
    assert row[1] == "张三" and row[3] == "6217000011112222333" and float(row[5]) == 840.0
    reader = world.users["health_officer"]   # may export, may not see bank numbers
    ws = load_workbook(io.BytesIO(selectors.payment_list(reader, run.pk))).worksheets[1]
    assert ws.cell(2, 4).value == idcard.mask_bank("6217000011112222333")
    assert ws.cell(2, 6).data_type == "n"


def test_recheck_lowers_from_next_month_and_the_run_flags_the_change(world, wel, clock):
    e = enrol_dibao(world, wel, clock)
    # the family earns more: 10800 a year for 3 → 300 a month per head
    Income.objects.create(household=world.h1, year=2026, wages=1080000, business=0, transfers=0, property_income=0,
                          costs=0, size=3, recorded_on=dt.date(2026, 11, 20))
    clock["today"] = dt.date(2026, 11, 25)
    r = services.recheck_record(actor=wel["civil"], enrolment_id=e.pk)
    assert (r.result, r.old_amount, r.new_amount, r.effective) == ("lower", 84000, 54000, dt.date(2026, 12, 1))
    old, new = Enrolment.objects.filter(person=e.person).order_by("id")
    assert (old.stop, new.start, new.monthly_amount, new.stop) == (dt.date(2026, 12, 1), dt.date(2026, 12, 1), 54000, None)
    # November paid at the old amount, December at the new: flagged as a jump (> 30 %)
    nov = services.run_compute(actor=wel["civil"], programme="dibao", county_code=COUNTY, month=dt.date(2026, 11, 1))
    services.run_approve(actor=wel["civil2"], run_id=nov.pk)
    services.run_post(actor=wel["civil2"], run_id=nov.pk)
    dec = services.run_compute(actor=wel["civil"], programme="dibao", county_code=COUNTY, month=dt.date(2026, 12, 1))
    assert [(x.amount, x.previous, x.flag) for x in dec.lines.all()] == [(54000, 84000, "jump")]
    assert sorted(world.h1.persons.values_list("assistance", flat=True)) == ["dibao"] * 3


def test_stop_needs_a_reason_clears_the_flag_and_is_listed_next_run(world, wel, clock):
    e = enrol_dibao(world, wel, clock)
    with pytest.raises(InvalidInput):
        services.recheck_record(actor=wel["civil"], enrolment_id=e.pk, stop=True, reason=" ")
    assert Enrolment.objects.get(pk=e.pk).stop is None
    r = services.recheck_record(actor=wel["civil"], enrolment_id=e.pk, stop=True, reason="子女在外务工，收入已超过标准")
    assert (r.result, r.new_amount, r.effective) == ("stop", 0, dt.date(2026, 12, 1))
    assert sorted(world.h1.persons.values_list("assistance", flat=True)) == ["none"] * 3
    dec = services.run_compute(actor=wel["civil"], programme="dibao", county_code=COUNTY, month=dt.date(2026, 12, 1))
    assert dec.lines_count == 0
    assert dec.stopped == [{"name": "张三", "reason": "子女在外务工，收入已超过标准"}]
    assert AuditEvent.objects.filter(object_type="welfare_recheck", summary__contains="停发").count() == 1


def test_recheck_due_list_and_income_above_standard_needs_a_reason(world, wel, clock):
    e = enrol_dibao(world, wel, clock)
    assert list(selectors.recheck_due(wel["civil"], dt.date(2027, 10, 31))) == []
    assert [x.pk for x in selectors.recheck_due(wel["civil"], dt.date(2027, 11, 1))] == [e.pk]
    Income.objects.create(household=world.h1, year=2026, wages=2_000_000, business=0, transfers=0, property_income=0,
                          costs=0, size=3, recorded_on=dt.date(2026, 11, 20))
    with pytest.raises(InvalidInput) as exc:
        services.recheck_record(actor=wel["civil"], enrolment_id=e.pk)
    assert "复核计算金额为0" in exc.value.message
    r = services.recheck_record(actor=wel["civil"], enrolment_id=e.pk, reason="收入超过标准，应退尽退")
    assert r.result == "stop"


def test_dead_recipient_is_not_paid_and_overpayment_is_recovered(world, wel, clock):
    e = enrol_dibao(world, wel, clock)
    run = services.run_compute(actor=wel["civil"], programme="dibao", county_code=COUNTY, month=dt.date(2026, 11, 1))
    services.run_approve(actor=wel["civil2"], run_id=run.pk)
    services.run_post(actor=wel["civil2"], run_id=run.pk)
    Person.objects.filter(pk=e.person_id).update(alive=False, death_date=dt.date(2026, 10, 20))
    dec = services.run_compute(actor=wel["civil"], programme="dibao", county_code=COUNTY, month=dt.date(2026, 12, 1))
    assert dec.lines_count == 0 and dec.stopped[0]["reason"].startswith("已死亡")
    with pytest.raises(InvalidInput):
        services.overpayment_recover(actor=wel["civil2"], enrolment_id=e.pk, month=dt.date(2026, 11, 1), reason="")
    services.overpayment_recover(actor=wel["civil2"], enrolment_id=e.pk, month=dt.date(2026, 11, 1),
                                 reason="10月已死亡，11月多发")
    assert funds.balance(wel["budget"]) == 10_000_000
    assert Transaction.objects.filter(kind="reversal", memo__contains="追回多发").count() == 1


def test_grant_temporary_respects_the_yearly_limit_and_other_roles_are_refused(world, wel, clock):
    p = world.h1.persons.get(relation="spouse")
    with pytest.raises(AccessDenied):
        services.enrolment_grant(actor=wel["village"], household_id=world.h1.pk, person_id=p.pk,
                                 programme="temporary", category="disaster")
    assert not Enrolment.objects.exists()
    a = services.enrolment_grant(actor=wel["civil"], household_id=world.h1.pk, person_id=p.pk,
                                 programme="temporary", category="disaster")
    b = services.enrolment_grant(actor=wel["civil"], household_id=world.h1.pk, person_id=world.h1.persons.get(
        relation="child").pk, programme="temporary", category="disaster")
    assert (a.monthly_amount, b.monthly_amount, a.stop) == (150000, 150000, dt.date(2026, 12, 1))
    with pytest.raises(FupinError) as exc:   # 3000 a year reached
        services.enrolment_grant(actor=wel["civil"], household_id=world.h1.pk, person_id=world.h1.persons.get(
            relation="head").pk, programme="temporary", category="illness")
    assert "上限" in exc.value.message
    with pytest.raises(InvalidInput):
        services.enrolment_grant(actor=wel["civil"], household_id=world.h1.pk, person_id=p.pk,
                                 programme="disability_nursing", category="death")
    n = services.enrolment_grant(actor=wel["civil"], household_id=world.h1.pk, person_id=p.pk,
                                 programme="disability_nursing", category="grade1")
    assert n.monthly_amount == 8000
    benefits = selectors.household_benefits(wel["civil"], world.h1, dt.date(2026, 11, 20))
    assert [(x.person.name, x.get_programme_display(), x.monthly_amount) for x in benefits] == [
        ("李四", "重度残疾人护理补贴", 8000), ("李四", "临时救助", 150000), ("张小", "临时救助", 150000)]


# ---- screens ---------------------------------------------------------------------------------------

def test_screens_take_an_application_to_a_posted_run_and_show_it_on_the_household_page(world, wel, clock, client):
    head = world.h1.persons.get(relation="head")
    client.force_login(wel["village"])
    r = client.post(f"/welfare/apply/{world.h1.pk}/", {"person": head.pk, "programme": "dibao",
                                                      "category_dibao": "class_a", "care_level": "none"})
    assert "授权核查" in r.content.decode() or r.status_code == 302
    r = client.post(f"/welfare/apply/{world.h1.pk}/", {"person": head.pk, "programme": "dibao", "category_dibao": "class_a",
                                                      "care_level": "none", "consent": "on"})
    app = services.access_application(wel["village"], r["Location"].rstrip("/").split("/")[-1])
    assert (app.category, app.state) == ("class_a", "in_progress")
    page = client.get(f"/welfare/applications/{app.pk}/").content.decode()
    assert "申请（承诺授权核查家庭资产）" in page and "dibao" not in page and "class_a" not in page
    client.post(f"/welfare/applications/{app.pk}/", {"step": "application", "decision": "approve"})
    client.post(f"/welfare/applications/{app.pk}/", {"step": "home_verification", "decision": "approve",
                                                    "verifier1": "王村长", "verifier2": "李队员", "evidence": "核实表001"})
    app.refresh_from_db()
    assert app.current["key"] == "appraisal"
    approve_all(app, wel, clock)
    e = Enrolment.objects.get(person=head, stop__isnull=True)
    assert e.monthly_amount == (48000 - 20000 + 6000) * 3
    client.force_login(wel["civil"])
    r = client.post("/welfare/runs/", {"programme": "dibao", "county": COUNTY, "month": "2026-11"})
    run = PaymentRun.objects.get()
    assert r["Location"] == f"/welfare/runs/{run.pk}/"
    assert "新增" in client.get(f"/welfare/runs/{run.pk}/").content.decode()
    client.post(f"/welfare/runs/{run.pk}/approve/")
    assert PaymentRun.objects.get().status == RunStatus.COMPUTED      # not by the one who computed it
    client.force_login(wel["civil2"])
    client.post(f"/welfare/runs/{run.pk}/approve/")
    client.post(f"/welfare/runs/{run.pk}/post/")
    assert PaymentRun.objects.get().status == RunStatus.POSTED and paid(head, "2026-11") == [102000]
    r = client.get(f"/welfare/runs/{run.pk}/payments.xlsx")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
    household = client.get(f"/households/{world.h1.pk}/").content.decode()
    assert "最低生活保障（低保）" in household and "1,020.00" in household
    assert "无 → 低保" in household and "dibao" not in household
    listing = client.get("/welfare/?programme=dibao&sort=amount").content.decode()
    assert "张三" in listing and "A类（重点保障）" in listing
    r = client.get("/welfare/?format=xlsx")
    assert load_workbook(io.BytesIO(r.content)).active.cell(2, 3).value == "张三"
    assert "没有到期需复核的对象" in client.get("/welfare/rechecks/").content.decode()   # due in a year


def test_roles_without_welfare_rights_are_refused_and_nothing_changes(world, wel, client):
    client.force_login(world.users["school_aid"])
    assert client.post("/welfare/runs/", {"programme": "dibao", "county": COUNTY, "month": "2026-11"}).status_code == 403
    assert client.get(f"/welfare/apply/{world.h1.pk}/").status_code == 403
    assert client.get("/welfare/rechecks/").status_code == 403
    assert not PaymentRun.objects.exists()


def test_demo_county_has_recipients_of_every_programme_and_consistent_flags(db, settings):
    from fupin.demo import generator
    from fupin.welfare.models import Application, Programme

    settings.DEMO = True
    spec = generator.generate(400, min_villages=4)
    generator.seed_database(spec)
    generator.seed_demo_users(spec)
    generator.seed_demo_extras(spec)
    have = set(Enrolment.objects.values_list("programme", flat=True))
    assert have == set(Programme.values)
    # every person flagged 低保 lives in a household with a running 低保 enrolment, and back
    flagged = set(Person.objects.filter(assistance="dibao").values_list("household_id", flat=True))
    assert flagged == set(Enrolment.objects.filter(programme="dibao", stop__isnull=True)
                          .values_list("household_id", flat=True))
    assert set(Person.objects.filter(assistance="tekun").values_list("pk", flat=True)) == set(
        Enrolment.objects.filter(programme="tekun", stop__isnull=True).values_list("person_id", flat=True))
    assert Application.objects.filter(state="in_progress").count() == 1
    run = PaymentRun.objects.get()
    assert (run.status, run.lines_count) == ("computed", Enrolment.objects.filter(programme="dibao").count())


def test_tekun_application_records_assets_at_the_home_visit_and_flags_the_person(world, wel, clock):
    p = world.h2.persons.get()
    civil_t2 = wel["civil"]
    app = services.application_start(actor=civil_t2, household_id=world.h2.pk, person_id=p.pk, programme="tekun",
                                     category="dispersed", care_level="full", consent_assets=True)
    assert [s["key"] for s in app.definition["steps"]] == ["application", "home_verification", "township_review",
                                                          "county_approval"]
    actors = {"village": User.objects.create(username="v3", role=Role.VILLAGE_CADRE, region_id="513435101200"),
              "township": User.objects.create(username="t2", role=Role.TOWNSHIP_OFFICER, region_id="513435101000"),
              "county": wel["civil"]}
    while app.current:
        step = app.current
        app = services.application_act(actor=actors[step["tier"]], application_id=app.pk, step_key=step["key"],
                                       approve=True, verifiers=["甲", "乙"], evidence=["表2"],
                                       assets={"deposits": "800"})
    e = Enrolment.objects.get(person=p)
    assert (e.monthly_amount, Person.objects.get(pk=p.pk).assistance) == (30000 + 20000, "tekun")
    # the 特困 procedure records the assets too (the 特困 rule does not test them)
    assert list(app.assets.values_list("deposits", "recorded_by__username")) == [(80000, "v3")]


def test_a_department_finding_puts_the_recipient_on_the_recheck_list_until_rechecked(world, wel, clock):
    from fupin.monitoring import services as monitoring

    e = enrol_dibao(world, wel, clock)
    assert list(selectors.recheck_due(wel["civil"], dt.date(2026, 12, 1))) == []
    head = "姓名,公民身份号码,性别,出生日期,住址,死亡日期"
    row = f"李四,{world.h1.persons.get(name='李四').id_number},女,1972-03-02,新市坝镇桃源村,2026-10-01"
    batch = monitoring.batch_import(actor=world.users["county_officer"], kind="deaths", source="县民政局",
                                    as_of=dt.date(2026, 11, 1), data=(head + "\n" + row + "\n").encode(),
                                    filename="deaths.csv").batch
    monitoring.batch_link(actor=world.users["county_officer"], batch_id=batch.pk)
    due = list(selectors.recheck_due(wel["civil"], monitoring.today()))
    assert [(x.pk, x.finding) for x in due] == [(e.pk, "已死亡仍在册或仍领取资金")]
    clock["today"] = monitoring.today()
    services.recheck_record(actor=wel["civil"], enrolment_id=e.pk)   # the family is re-checked: off the list
    assert list(selectors.recheck_due(wel["civil"], monitoring.today())) == []


def test_four_cards_name_each_benefit_and_each_payment_in_chinese(world, wel, clock):
    from fupin.pairing.cards import card_data

    e = enrol_dibao(world, wel, clock)
    run = services.run_compute(actor=wel["civil"], programme="dibao", county_code=COUNTY, month=dt.date(2026, 11, 1))
    services.run_approve(actor=wel["civil2"], run_id=run.pk)
    services.run_post(actor=wel["civil2"], run_id=run.pk, date=dt.date(2026, 11, 10))
    data = card_data(wel["civil"], world.h1, 2026)
    assert ("张三 最低生活保障（低保）（一般，每月）", 84000) in data["policies"]
    assert [(p.label, p.amount) for p in data["payments"] if p.account.person_id == e.person_id] == [
        ("最低生活保障金", 84000)]
