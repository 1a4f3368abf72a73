"""The board (作战图), its drill-down lists and exports, targets, and problems to 销号 (SPEC §12).

A small world on top of conftest's: in the county 甘洛县 (two townships, three villages)
  H1 桃源村  贫困户   张三 (insured, contract valid), 李四 (not insured), 张小 (child, dropped out)
  H2 团结村  贫困户   王五 (insured, contract expired)
  H4 红星村  已脱贫（this year）赵七 (insured, contract valid)
  H5 桃源村  监测对象 钱八 (insured); 钱九 dead after being paid
  H6 团结村  待识别   "=SUM(1,2)" (a name Excel would run as a formula)
  H3 in another county: never counted.
"""
from __future__ import annotations

import datetime as dt
import io

import pytest
from django.utils import timezone

from fupin.core import idcard
from fupin.core.models import AuditEvent
from fupin.oversight import policy, selectors, services
from fupin.oversight.models import Problem, Target

from .conftest import COUNTY, T1, T2, V1, V2, V3, OTHER_VILLAGE, pid

TODAY = timezone.localdate()
YEAR = TODAY.year


def d(month: int, day: int) -> dt.date:
    return dt.date(YEAR, month, day)


@pytest.fixture
def board_world(world):
    from fupin.pairing.models import Helper, Unit, Visit
    from fupin.funds import services as funds
    from fupin.health.models import Contract
    from fupin.registry.models import Guarantee, Household, Person

    def person(h, name, birth, seq, relation, **kw):
        p = Person(household=h, name=name, id_number=pid(birth, seq), birth_date=dt.date.fromisoformat(birth),
                   sex="M" if seq % 2 else "F", relation=relation, labour="ordinary", **kw)
        p.save()
        return p

    w = world
    Person.objects.filter(name="李四").update(medical_insurance=False)
    Person.objects.filter(name="张小").update(schooling="dropped_out")
    Household.objects.filter(pk=w.h4.pk).update(status="exited", status_since=d(3, 1))
    w.h5 = Household.objects.create(number="H5", village_id=V1, attribute="general", main_cause="illness",
                                    status="monitored")
    person(w.h5, "钱八", "1975-04-04", 81, "head")
    qian9 = person(w.h5, "钱九", "1950-04-04", 91, "parent")
    w.h6 = Household.objects.create(number="H6", village_id=V3, attribute="general", main_cause="illness",
                                    status="applied")
    person(w.h6, "=SUM(1,2)", "1985-06-06", 93, "head")

    # the three guarantees and water: only H1 has every item's latest check met
    items = ["education", "medical", "housing", "water"]
    for h, failing in ((w.h1, None), (w.h2, "water"), (w.h4, "missing-water"), (w.h5, "housing")):
        for item in items:
            if failing == "missing-water" and item == "water":
                continue
            Guarantee.objects.create(household=h, item=item, met=True, checked_on=d(1, 5), checked_by="核查员",
                                     evidence="入户核查")
            if item == failing:   # a later check found it not met
                Guarantee.objects.create(household=h, item=item, met=False, checked_on=d(6, 5), checked_by="核查员",
                                         evidence="复查")
    zhang3, wang5, zhao7 = (Person.objects.get(name=n) for n in ("张三", "王五", "赵七"))
    for p, valid_to in ((zhang3, TODAY + dt.timedelta(days=200)), (wang5, TODAY - dt.timedelta(days=1)),
                        (zhao7, TODAY + dt.timedelta(days=10))):
        Contract.objects.create(person=p, team="一团队", doctor="刘医生", signed_on=d(1, 1) - dt.timedelta(days=30),
                                valid_to=valid_to)

    from fupin.health.models import Service
    Service.objects.create(person=zhang3, kind="followup", date=d(3, 3))     # contracted, followed up
    Service.objects.create(person=wang5, kind="followup", date=d(3, 3))      # followed up, contract expired
    Service.objects.create(person=zhao7, kind="followup", date=dt.date(YEAR - 1, 3, 3))   # last year

    # helpers' visit days: A visits H1 and H5 on one day (one day), H1 again later; B visits H2;
    # a visit of last year and one outside the county do not count
    unit = Unit.objects.create(name="县农业局", region_id=COUNTY)
    a = Helper.objects.create(unit=unit, name="帮扶甲", kind="staff")
    b = Helper.objects.create(unit=unit, name="帮扶乙", kind="staff")
    for i, (helper, h, date) in enumerate([(a, w.h1, d(2, 1)), (a, w.h5, d(2, 1)), (a, w.h1, d(3, 1)),
                                           (b, w.h2, d(2, 1)), (b, w.h2, dt.date(YEAR - 1, 5, 1)),
                                           (a, w.h3, d(4, 1))]):
        Visit.objects.create(helper=helper, household=h, date=date, minutes=30, done="走访", client_token=f"t{i}")

    from fupin.pairing.models import Measure
    for h, date in ((w.h1, d(4, 1)), (w.h5, d(4, 2)), (w.h2, dt.date(YEAR - 1, 4, 1))):
        Measure.objects.create(helper=a, household=h, kind="产业", money=100_000, date=date, description="发展养殖")

    # funds: 1,000.00 central to a county line, 500.00 provincial to a township line; 550.00 and 100.00 paid
    officer = w.users["county_officer"]
    b1 = funds.budget_create(actor=officer, code="ov-central", name="中央衔接资金", source="central", programme="x",
                             year=YEAR, region=COUNTY)
    b2 = funds.budget_create(actor=officer, code="ov-prov", name="省级衔接资金", source="provincial", programme="x",
                             year=YEAR, region=T1)
    funds.budget_allocate(actor=officer, budget=b1, amount=100_000, date=d(1, 10), decision_id="拨-1")
    funds.budget_allocate(actor=officer, budget=b2, amount=50_000, date=d(1, 10), decision_id="拨-2")
    pay = funds.Payment
    funds.payments_post(actor=officer, budget=b1, date=d(2, 1), decision_type="grant", decision_id="发-1", payments=[
        pay(funds.payee_for_person(zhang3), 30_000, "产业奖补", f"{YEAR}"),
        pay(funds.payee_for_person(wang5), 20_000, "产业奖补", f"{YEAR}"),
        pay(funds.payee_for_person(qian9), 5_000, "产业奖补", f"{YEAR}")])
    funds.payments_post(actor=officer, budget=b2, date=d(2, 2), decision_type="grant", decision_id="发-2", payments=[
        pay(funds.payee_for_person(zhao7), 10_000, "产业奖补", f"{YEAR}")])
    Person.objects.filter(pk=qian9.pk).update(alive=False, death_date=d(1, 20))   # death registered late

    # problems: one overdue, one under way, one closed, one in another county
    u = w.users["county_officer"]
    for region, state, deadline in ((V1, "open", TODAY - dt.timedelta(days=5)),
                                    (V3, "rectifying", TODAY + dt.timedelta(days=10)),
                                    (V2, "verified", TODAY - dt.timedelta(days=30)),
                                    (OTHER_VILLAGE, "open", TODAY - dt.timedelta(days=5))):
        Problem.objects.create(type="data_quality", title=f"问题-{region}", region_id=region, owner_unit="村委",
                               deadline=deadline, state=state, created_by=u)
    return w


# policies/indicators/health.yaml (insured this year, public-health figures, counterpart support)
HEALTH_ZEROS = {k: 0 for k in policy.indicators() if k == "insured_year" or k.startswith(("ph_", "support_"))}

# For the county: every indicator's exact value (money in fen).
COUNTY_EXPECTED = {
    "hh_registered": 2, "hh_monitored": 1, "hh_returned": 0, "hh_exited": 1, "hh_eliminated": 0, "hh_applied": 1,
    "p_registered": 4, "p_monitored": 1, "p_exited": 1, "exits_year": 1, "hh_covered": 4, "guarantees_met": 1,
    "persons_covered": 6, "insured": 5, "fd_contracted": 2, "fd_managed": 1, "dropouts": 1, "visit_days": 3,
    "measures_year": 2,
    "funds_allocated": 150_000, "funds_paid": 65_000, "problems_open": 2, "problems_overdue": 1,
    "problems_all": 3, "problems_closed": 1, "edu_aid_lines": 0, "edu_aid_paid": 0, "claims_settled": 0,
    "claims_total": 0, "claims_patient": 0, "claims_inpatient": 0, "claims_inpatient_in_county": 0,
    "claims_in_county_total": 0, "claims_in_county_patient": 0,
    "vil_hh_poor_villages": 0, "vil_hh_exited_villages": 0,  # villages room: no village register in this world
    **HEALTH_ZEROS,  # health.yaml: no coverage, figures or support in this world (tests/test_board_health.py)
}
T1_EXPECTED = {
    "hh_registered": 1, "hh_monitored": 1, "hh_returned": 0, "hh_exited": 1, "hh_eliminated": 0, "hh_applied": 0,
    "p_registered": 3, "p_monitored": 1, "p_exited": 1, "exits_year": 1, "hh_covered": 3, "guarantees_met": 1,
    "persons_covered": 5, "insured": 4, "fd_contracted": 2, "fd_managed": 1, "dropouts": 1, "visit_days": 2,
    "measures_year": 2,
    "funds_allocated": 50_000, "funds_paid": 10_000, "problems_open": 1, "problems_overdue": 1,
    "problems_all": 2, "problems_closed": 1, "edu_aid_lines": 0, "edu_aid_paid": 0, "claims_settled": 0,
    "claims_total": 0, "claims_patient": 0, "claims_inpatient": 0, "claims_inpatient_in_county": 0,
    "claims_in_county_total": 0, "claims_in_county_patient": 0,
    "vil_hh_poor_villages": 0, "vil_hh_exited_villages": 0,  # villages room: no village register in this world
    **HEALTH_ZEROS,  # health.yaml: no coverage, figures or support in this world (tests/test_board_health.py)
}


def _cards(response) -> dict:
    return {c.ind.key: c for cards in response.context["groups"].values() for c in cards}


def _list_total(client, code, key, **params):
    """The drill-down list behind a number: (total shown, number of rows, sum of listed amounts)."""
    r = client.get(f"/oversight/{code}/list/{key}/", {"year": YEAR, **params})
    assert r.status_code == 200, r.content.decode()[:500]
    rows, page = [], r.context["page"]
    while True:
        rows += list(page.object_list)
        if not page.has_next():
            break
        r2 = client.get(f"/oversight/{code}/list/{key}/", {"year": YEAR, "page": page.next_page_number(), **params})
        page = r2.context["page"]
    amounts = sum(getattr(x, "shown", 0) for x in rows)
    return r.context["total"], len(rows), amounts


def test_the_indicators_are_data_with_sources():
    inds = policy.indicators()
    assert set(inds) == set(COUNTY_EXPECTED)
    assert all(i.source and i.name for i in inds.values())
    assert len(policy.problem_types()) == 10


@pytest.mark.parametrize("role, code, expected", [("county_officer", COUNTY, COUNTY_EXPECTED),
                                                  ("township_officer", T1, T1_EXPECTED)])
def test_every_board_number_equals_its_list_and_the_exact_value(board_world, login, role, code, expected):
    client = login(role)
    r = client.get(f"/oversight/{code}/", {"year": YEAR})
    assert r.status_code == 200
    cards = _cards(r)
    assert {k: c.value for k, c in cards.items()} == expected
    for key, card in cards.items():
        total, n, amounts = _list_total(client, code, key)
        assert total == card.value, key
        if card.ind.is_money:
            assert amounts == card.value, key
        else:
            assert n == card.value, key
    # rates
    if code == COUNTY:
        assert (cards["guarantees_met"].rate, cards["insured"].rate, cards["fd_contracted"].rate,
                cards["funds_paid"].rate) == (250, 833, 333, 433)
        assert cards["insured"].rate_text == "83.3%"
        assert (cards["fd_managed"].rate, cards["measures_year"].rate_text, cards["measures_year"].target_text,
                cards["measures_year"].met) == (500, "户均 0.5", "户均 4.0", False)
        # money by source: each split is its own list
        assert [(s, v) for _, s, v in cards["funds_paid"].splits if v] == [("central", 55_000), ("provincial", 10_000)]
        for key in ("funds_paid", "funds_allocated"):
            for _, src, v in cards[key].splits:
                total, n, amounts = _list_total(client, code, key, source=src)
                assert total == amounts == v, (key, src)
        # overdue problems in red; a default target of 100% insured not met
        html = r.content.decode()
        overdue = html[html.index('data-key="problems_overdue"'):]
        assert cards["problems_overdue"].alarm and overdue[:400].count('<b class="value bad">1</b>') == 1
        table = r.context["by_source"]
        assert [(row["label"], [(c["value"], c["rate_text"]) for c in row["cells"]]) for row in table["rows"]][:2] == [
            ("中央财政", [(100_000, ""), (55_000, "55.0%")]), ("省级财政", [(50_000, ""), (10_000, "20.0%")])]
        assert cards["insured"].met is False


def test_children_side_by_side_worst_first_equal_to_their_own_boards(board_world, login):
    client = login("county_officer")
    r = client.get(f"/oversight/{COUNTY}/", {"year": YEAR, "by": "insured"})
    table = r.context["children"]
    assert [row["region"].code for row in table["rows"]] == [T1, T2]   # T1 80.0%, T2 100.0%: worst first
    cols = [c.key for c in table["columns"]]
    for row in table["rows"]:
        own = _cards(client.get(f"/oversight/{row['region'].code}/", {"year": YEAR}))
        assert {k: cell["value"] for k, cell in zip(cols, row["cells"])} == {k: own[k].value for k in cols}
    assert r.context["chart"] == {"title": "参加基本医疗保险（比率 %）", "labels": ["新市坝镇", "田坝镇"],
                                  "values": [80.0, 100.0]}
    html = r.content.decode()
    assert 'id="chart-data" type="application/json"' in html and "vendor/echarts-6.1.0.min.js" in html
    assert "<script>" not in html.replace('<script src=', '')   # no inline script (CSP)
    r = client.get(f"/oversight/{COUNTY}/", {"year": YEAR, "by": "hh_applied"})   # lower is better: most first
    assert [row["region"].code for row in r.context["children"]["rows"]] == [T2, T1]


def test_scope_a_township_officer_sees_only_its_township(board_world, login):
    client = login("township_officer")
    assert client.get(f"/oversight/{COUNTY}/").status_code == 404
    assert client.get(f"/oversight/{T2}/list/hh_registered/").status_code == 404
    r = client.get(f"/oversight/{T1}/list/hh_registered/", {"year": YEAR})
    assert [h.number for h in r.context["page"]] == ["H1"]
    r = client.get("/oversight/", follow=True)
    assert r.redirect_chain[-1][0] == f"/oversight/{T1}/"
    # by default the first rate, guarantees met: 红星村 0 of 1, 桃源村 1 of 2 — worst first
    assert [row["region"].code for row in r.context["children"]["rows"]] == [V2, V1]
    r = client.get("/oversight/problems/")
    assert [p.region_id for p in r.context["page"]] == [V2, V1]   # by deadline; township 2 and the other county not
    r = client.get("/oversight/problems/", {"overdue": "1"})   # overdue and open
    assert [p.region_id for p in r.context["page"]] == [V1] and "（已逾期）" in r.content.decode()
    services.problems_escalate()                                # the nightly job: up to the township
    r = client.get("/oversight/problems/", {"escalated": "1"})
    assert [p.region_id for p in r.context["page"]] == [V1] and "已逾期，已上提至新市坝镇督办" in r.content.decode()


def test_excel_export_is_formula_safe_logged_and_needs_the_right(board_world, login):
    from openpyxl import load_workbook

    client = login("county_officer")
    r = client.get(f"/oversight/{COUNTY}/list/hh_applied.xlsx", {"year": YEAR})
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.content)).active
    rows = [list(row) for row in ws.iter_rows(values_only=True)]
    assert rows == [[f"甘洛县{YEAR}年 待识别户", None, None, None, None, None],
                    ["户编号", "所属村", "户主", "在世人数", "状态", "状态起始日期"],
                    ["H6", "团结村", "'=SUM(1,2)", 1, "待识别", None]]
    e = AuditEvent.objects.get(action="export", actor=board_world.users["county_officer"])
    assert e.detail == {"persons": 1, "full_ids": False, "what": f"作战图清单：甘洛县{YEAR}年 待识别户"}

    r = client.get(f"/oversight/{COUNTY}/list/p_registered.xlsx", {"year": YEAR})
    rows = [list(row) for row in load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True)][2:]
    zhang3 = board_world.h1.persons.get(name="张三")
    assert len(rows) == 4 and rows[0] == ["张三", idcard.mask(zhang3.id_number), "男", "1970年", "H1", "桃源村", "贫困户"]
    assert not any(p.id_number in map(str, row) for row in rows for p in board_world.h1.persons.all())

    r = client.get(f"/oversight/{COUNTY}/list/funds_paid.xlsx", {"year": YEAR, "source": "central"})
    rows = [list(row) for row in load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True)][2:]
    assert [(x[2], x[3], x[7], x[8]) for x in rows] == [("支付", "中央衔接资金", 3, "550.00")]
    # a budget line that names what it paid (a room's ledger code) and a month: read as words, on the page
    # and in the workbook (a year of its own, so this year's numbers stay as they are)
    from fupin.funds import services as funds

    officer, last = board_world.users["county_officer"], YEAR - 1
    b3 = funds.budget_create(actor=officer, code="ov-last", name="往年低保资金", source="central", programme="x",
                             year=last, region=COUNTY)
    funds.budget_allocate(actor=officer, budget=b3, amount=10_000, date=dt.date(last, 1, 10), decision_id="拨-3")
    funds.transaction_post(actor=officer, kind="payment", date=dt.date(last, 3, 5), decision_type="grant",
                           decision_id="发-3", lines=[
                               funds.Line(b3, -4_000, "welfare.dibao", f"{last}-03"),
                               funds.Line(funds.payee_for_person(board_world.h1.persons.get(name="张三")), 4_000,
                                          "welfare.dibao", f"{last}-03")])
    r = client.get(f"/oversight/{COUNTY}/list/funds_paid.xlsx", {"year": last})
    rows = [list(row) for row in load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True)][2:]
    assert [(x[5], x[6], x[8]) for x in rows] == [("最低生活保障（低保）", f"{last}年3月", "40.00")]
    html = client.get(f"/oversight/{COUNTY}/list/funds_paid/", {"year": last}).content.decode()
    assert f"<td>最低生活保障（低保）</td><td>{last}年3月</td>" in html and "welfare.dibao" not in html
    # a pairing measure's kind by its name
    from fupin.pairing.models import Helper, Measure

    Measure.objects.create(helper=Helper.objects.order_by("id").first(), household=board_world.h1, kind="employment",
                           money=0, date=dt.date(last, 5, 1), description="推荐务工")
    html = client.get(f"/oversight/{COUNTY}/list/measures_year/", {"year": last}).content.decode()
    assert "<td>就业</td><td>推荐务工</td>" in html and "employment" not in html
    r = client.get(f"/oversight/{COUNTY}/list/measures_year.xlsx", {"year": last})
    rows = [list(row) for row in load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True)][2:]
    assert [(x[3], x[4]) for x in rows] == [("就业", "推荐务工"), ("产业", "发展养殖")]

    inspector = login("inspector")   # reads the board, may not export
    assert inspector.get(f"/oversight/{COUNTY}/list/hh_applied/", {"year": YEAR}).status_code == 200
    n = AuditEvent.objects.filter(action="export").count()
    assert inspector.get(f"/oversight/{COUNTY}/list/hh_applied.xlsx").status_code == 403
    assert AuditEvent.objects.filter(action="export").count() == n
    assert AuditEvent.objects.filter(actor=board_world.users["inspector"], result="denied").count() == 1


def test_a_problem_goes_from_open_to_closed_and_a_wrong_role_changes_nothing(board_world, login, client):
    from fupin.core.models import User

    township = login("township_officer")
    r = township.post("/oversight/problems/new/", {"type": "not_stable", "title": "H1 住房安全复查未达标", "region": V1,
                                                   "household": "H1", "owner_unit": "桃源村委", "owner_name": "村支书"})
    assert r.status_code == 302
    p = Problem.objects.get(title="H1 住房安全复查未达标")
    assert (p.state, p.household_id, p.deadline) == ("open", board_world.h1.pk, timezone.localdate(p.created_at) + dt.timedelta(days=30))

    def act(c, action, **data):
        return c.post(f"/oversight/problems/{p.pk}/{action}/", data)

    cadre = User.objects.get(username="village_cadre")
    client.force_login(cadre)
    assert act(client, "start").status_code == 302
    assert act(client, "submit", note="").status_code == 400          # evidence needed
    assert act(client, "submit", note="已加固房屋，照片存村档案第3卷").status_code == 302
    # the cadre may not close its own problem: refused, nothing changed
    before = AuditEvent.objects.filter(object_type="problem", object_id=str(p.pk)).count()
    assert act(client, "verify").status_code == 403
    p.refresh_from_db()
    assert (p.state, p.verified_by_id, p.closed_on) == ("submitted", None, None)
    assert AuditEvent.objects.filter(object_type="problem", object_id=str(p.pk)).count() == before
    assert AuditEvent.objects.filter(actor=cadre, result="denied").count() == 1
    # a helper (read only) may not even start one
    helper = login("pairing_helper")
    assert act(helper, "reopen", note="x").status_code == 403
    # another township officer's region cannot see it; the township officer closes it (销号)
    township = login("township_officer")
    assert act(township, "reopen", note="照片不清楚").status_code == 302
    p.refresh_from_db()
    assert p.state == "reopened"
    client.force_login(cadre)
    act(client, "start")
    act(client, "submit", note="补拍照片")
    township = login("township_officer")
    assert act(township, "verify", note="核验通过").status_code == 302
    p.refresh_from_db()
    assert (p.state, p.verified_by.username, p.closed_on) == ("verified", "township_officer", timezone.localdate())
    history = [e.detail["state"] for e in AuditEvent.objects.filter(object_type="problem", object_id=str(p.pk))
               .order_by("at", "id")]
    assert history == ["open", ["open", "rectifying"], ["rectifying", "submitted"], ["submitted", "reopened"],
                       ["reopened", "rectifying"], ["rectifying", "submitted"], ["submitted", "verified"]]
    page = township.get(f"/oversight/problems/{p.pk}/").content.decode()
    assert "已销号" in page and "not_stable" not in page and "脱贫户未能稳定实现" in page


def test_the_submitter_may_not_verify_own_result(board_world, login):
    t = login("township_officer")
    p = Problem.objects.get(region_id=V1)
    for action, note in (("start", ""), ("submit", "已改")):
        t.post(f"/oversight/problems/{p.pk}/{action}/", {"note": note})
    assert t.post(f"/oversight/problems/{p.pk}/verify/").status_code == 403
    p.refresh_from_db()
    assert p.state == "submitted"


def test_a_wrong_transition_and_another_region_are_refused(board_world, login):
    t = login("township_officer")
    other = Problem.objects.get(region_id=V3)   # township 2: not in this officer's scope
    assert t.post(f"/oversight/problems/{other.pk}/submit/", {"note": "x"}).status_code == 404
    mine = Problem.objects.get(region_id=V1)
    assert t.post(f"/oversight/problems/{mine.pk}/verify/").status_code == 400   # still open
    other.refresh_from_db(), mine.refresh_from_db()
    assert (other.state, mine.state) == ("rectifying", "open")


def test_ledger_audit_findings_become_problems_once(board_world, login):
    client = login("county_officer")
    assert client.post("/oversight/problems/from-audit/").status_code == 302
    made = Problem.objects.filter(source="audit")
    assert [(p.type, p.region_id, p.household_id, p.title) for p in made] == [
        ("data_quality", V1, board_world.h5.pk,
         f"向已故人员支付：钱九（{YEAR}-01-20 死亡）{YEAR}-02-01 收到 50.00 元 产业奖补 {YEAR}")]
    client.post("/oversight/problems/from-audit/")
    assert Problem.objects.filter(source="audit").count() == 1
    helper = login("inspector")
    assert helper.post("/oversight/problems/from-audit/").status_code == 403
    assert Problem.objects.filter(source="audit").count() == 1


def test_targets_set_by_the_level_above_and_struck_off_when_met(board_world, login):
    county = login("county_officer")
    assert county.post("/oversight/targets/", {"year": YEAR, "region": T1, "indicator": "exits_year",
                                               "value": "1"}).status_code == 302
    assert county.post("/oversight/targets/", {"year": YEAR, "region": T2, "indicator": "insured",
                                               "value": "99.5"}).status_code == 302
    assert dict(Target.objects.values_list("region_id", "value")) == {T1: 1, T2: 995}
    # a village is not the county's direct child: refused, nothing written
    assert county.post("/oversight/targets/", {"year": YEAR, "region": V1, "indicator": "exits_year",
                                               "value": "3"}).status_code == 403
    assert Target.objects.count() == 2
    page = county.get("/oversight/targets/", {"year": YEAR}).content.decode()
    assert "<s>本年脱贫户</s>" in page
    r = county.get(f"/oversight/{T1}/", {"year": YEAR})
    card = _cards(r)["exits_year"]
    assert (card.target, card.met) == (1, True) and "<s>目标 1</s>" in r.content.decode()
    assert _cards(county.get(f"/oversight/{T2}/", {"year": YEAR}))["insured"].met is True   # 1 of 1 = 100%
    # the township sets its villages' targets, not its own
    t = login("township_officer")
    assert t.post("/oversight/targets/", {"year": YEAR, "region": T1, "indicator": "exits_year",
                                          "value": "5"}).status_code == 403
    assert Target.objects.get(region_id=T1).value == 1


def test_targets_imported_from_excel_all_or_nothing(board_world, login):
    from openpyxl import Workbook

    def book(rows):
        wb = Workbook()
        ws = wb.active
        ws.append(["区划代码", "指标名称", "目标值"])
        for row in rows:
            ws.append(row)
        out = io.BytesIO()
        wb.save(out)
        out.seek(0)
        out.name = "targets.xlsx"
        return out

    county = login("county_officer")
    r = county.post("/oversight/targets/import/", {"year": YEAR, "file": book([[T1, "本年脱贫户", "2"],
                                                                                [T2, "没有的指标", "1"]])}, follow=True)
    assert "没有名为“没有的指标”的指标" in r.content.decode() and Target.objects.count() == 0
    county.post("/oversight/targets/import/", {"year": YEAR, "file": book([[T1, "本年脱贫户", "2"],
                                                                        [T2, "参加基本医疗保险", "100"]])})
    assert dict(Target.objects.values_list("region_id", "value")) == {T1: 2, T2: 1000}


def test_rate_helpers():
    assert selectors.rate_permille(1, 3) == 333 and selectors.rate_permille(1, 0) is None
    assert selectors.percent(995) == "99.5%" and selectors.percent(None) == "—"
    ind = policy.indicators()["insured"]
    assert services.parse_target(ind, "99.5") == 995
    with pytest.raises(Exception):
        services.parse_target(ind, "101")


# ---- inspections: seeded stratified sampling, findings, 两率一度 ---------------------------------------

@pytest.fixture
def inspection_world(board_world):
    from fupin.registry.models import Household, Person

    for i in range(1, 7):   # six more poor households in 桃源村: the (新市坝镇, 贫困户) stratum has 7
        h = Household.objects.create(number=f"S{i}", village_id=V1, attribute="general", main_cause="illness",
                                     status="registered")
        Person(household=h, name=f"抽样户{i}", id_number=pid("1960-01-01", 100 + i), birth_date=dt.date(1960, 1, 1),
               sex="M", relation="head", labour="ordinary").save()
    return board_world


def _campaign(client, seed="督查〔2026〕1号", per_stratum="3"):
    from fupin.oversight.models import Campaign

    r = client.post("/oversight/inspections/", {
        "name": "县级自查", "kind": "self_check", "region": COUNTY, "start": TODAY.isoformat(), "end": TODAY.isoformat(),
        "team": "李组长、王组员", "seed": seed, "per_stratum": per_stratum, "statuses": ["registered", "exited", "applied"]})
    assert r.status_code == 302, r.content.decode()[:500]
    return Campaign.objects.order_by("-id").first()


def test_sampling_is_stratified_and_reproducible_from_the_seed(inspection_world, login):
    client = login("county_officer")
    c = _campaign(client)
    drawn = [(s.township, s.status, s.household.number) for s in c.samples.select_related("household")]
    strata = {}
    for t, st, _ in drawn:
        strata[(t, st)] = strata.get((t, st), 0) + 1
    # 3 of the 7 poor households of 新市坝镇; every smaller stratum whole; nothing outside the county
    assert strata == {(T1, "exited"): 1, (T1, "registered"): 3, (T2, "applied"): 1, (T2, "registered"): 1}
    assert {n for _, _, n in drawn} >= {"H4", "H2", "H6"} and "H3" not in {n for _, _, n in drawn}
    again = _campaign(client)
    assert [(s.township, s.status, s.household.number) for s in again.samples.select_related("household")] == drawn
    others = {tuple(s.household.number for s in _campaign(client, seed=f"种子{i}").samples.select_related("household"))
              for i in range(5)}
    assert len(others) > 1   # another seed, another sample
    sheet = client.get(f"/oversight/inspections/{c.pk}/sheet/")
    assert sheet.status_code == 200 and "□ □ □" in sheet.content.decode()
    e = AuditEvent.objects.filter(action="export", object_type="campaign").get()
    assert e.detail["persons"] == 6


def test_findings_give_the_rates_with_intervals_and_errors_become_problems(inspection_world, login):
    from fupin.oversight import inspections
    from fupin.oversight.models import Finding

    client = login("county_officer")
    c = _campaign(client)
    samples = list(c.samples.select_related("household"))
    poor_t1 = [s for s in samples if (s.township, s.status) == (T1, "registered")]
    verdicts = {poor_t1[0].pk: ("wrongly_in", "", "satisfied", "家有营运车辆"),
                next(s.pk for s in samples if s.status == "exited"): ("correct", "no", "satisfied", "收入未达标"),
                next(s.pk for s in samples if s.status == "applied"): ("wrongly_out", "", "fair", "因病支出大"),
                next(s.pk for s in samples if s.township == T2 and s.status == "registered"):
                    ("correct", "", "unsatisfied", "帮扶不到位")}
    for s in samples:
        ident, exit_ok, sat, note = verdicts.get(s.pk, ("correct", "", "satisfied", ""))
        data = {"identification": ident, "exit_correct": exit_ok, "satisfaction": sat, "note": note,
                "client_token": f"tok-{s.pk}"}
        assert client.post(f"/oversight/inspections/{c.pk}/samples/{s.pk}/", data).status_code == 302
    # a phone that lost its connection sends the same form again: one finding, one audit row
    s = poor_t1[0]
    client.post(f"/oversight/inspections/{c.pk}/samples/{s.pk}/", {"identification": "wrongly_in", "satisfaction": "satisfied",
                                                                   "note": "家有营运车辆", "client_token": f"tok-{s.pk}"})
    assert Finding.objects.filter(sample__campaign=c).count() == 6
    assert AuditEvent.objects.filter(object_type="finding").count() == 6
    rates = {r.name: (r.k, r.n, r.permille, r.lo, r.hi) for r in inspections.campaign_rates(c)["all"]}
    assert rates == {"错评率": (1, 5, 200, 36, 625), "漏评率": (1, 1, 1000, 206, 1000),
                     "错退率": (1, 1, 1000, 206, 1000), "群众认可度": (5, 6, 833, 436, 970)}
    page = client.get(f"/oversight/inspections/{c.pk}/").content.decode()
    assert "20.0%（1/5，95%置信区间 3.6%–62.5%）" in page
    board = client.get(f"/oversight/{COUNTY}/", {"year": YEAR})
    assert [r.permille for _, rs in board.context["inspections"] for r in rs] == [200, 1000, 1000, 833]
    # every error found is a problem, once; it can be taken to 销号
    made = Problem.objects.filter(source="inspection").order_by("id")
    assert sorted((p.type, p.household.number) for p in made) == sorted([
        ("recheck", poor_t1[0].household.number), ("exit_quality", "H4"), ("recheck", "H6"), ("assistance", "H2")])
    p = made.get(type="exit_quality")
    assert p.title == "县级自查发现错退：H4（收入未达标）"
    township = login("township_officer")
    township.post(f"/oversight/problems/{p.pk}/start/")
    township.post(f"/oversight/problems/{p.pk}/submit/", {"note": "重新核算收入，启动返贫监测"})
    county = login("county_officer")
    assert county.post(f"/oversight/problems/{p.pk}/verify/").status_code == 302
    p.refresh_from_db()
    assert p.state == "verified"


def test_inspection_rights(inspection_world, login):
    from fupin.oversight.models import Campaign

    helper = login("pairing_helper")
    r = helper.post("/oversight/inspections/", {"name": "x", "kind": "self_check", "region": V1, "start": "2026-01-01",
                                                "end": "2026-01-02", "team": "x", "seed": "x", "per_stratum": "1",
                                                "statuses": ["registered"]})
    assert r.status_code == 403 and Campaign.objects.count() == 0
    c = _campaign(login("county_officer"))
    inspector = login("inspector")   # reads the results, records nothing
    assert inspector.get(f"/oversight/inspections/{c.pk}/").status_code == 200
    s = c.samples.first()
    assert inspector.post(f"/oversight/inspections/{c.pk}/samples/{s.pk}/",
                          {"identification": "correct", "satisfaction": "satisfied"}).status_code == 403
    township = login("township_officer")   # a county campaign is not in a township's scope
    assert township.get(f"/oversight/inspections/{c.pk}/").status_code == 404
    from fupin.oversight.models import Finding
    assert Finding.objects.count() == 0


def test_pre_aggregated_numbers_equal_the_live_ones_and_say_when_they_were_counted(board_world, login):
    from django.core.management import call_command

    from fupin.oversight.models import Snapshot
    from fupin.registry.models import Household

    client = login("county_officer")
    assert client.post(f"/oversight/{COUNTY}/refresh/", {"year": YEAR}).status_code == 302
    r = client.get(f"/oversight/{COUNTY}/", {"year": YEAR})
    assert r.context["counted_at"] is not None and "预先统计" in r.content.decode()
    assert {k: c.value for k, c in _cards(r).items()} == COUNTY_EXPECTED
    for key, card in _cards(r).items():
        assert _list_total(client, COUNTY, key)[0] == card.value, key
    live_children = client.get(f"/oversight/{COUNTY}/", {"year": YEAR, "live": "1"}).context["children"]
    assert [[c["value"] for c in row["cells"]] for row in r.context["children"]["rows"]] == \
        [[c["value"] for c in row["cells"]] for row in live_children["rows"]]
    # the township's board reads the numbers the county's refresh counted for it
    t1 = login("township_officer").get(f"/oversight/{T1}/", {"year": YEAR})
    assert t1.context["counted_at"] is not None and {k: c.value for k, c in _cards(t1).items()} == T1_EXPECTED
    # a household registered after the count: the list is live, the board says when it counted
    Household.objects.create(number="H9", village_id=V1, attribute="general", main_cause="illness", status="registered")
    client = login("county_officer")
    assert _cards(client.get(f"/oversight/{COUNTY}/", {"year": YEAR}))["hh_registered"].value == 2
    assert _list_total(client, COUNTY, "hh_registered")[0] == 3
    assert _cards(client.get(f"/oversight/{COUNTY}/", {"year": YEAR, "live": "1"}))["hh_registered"].value == 3
    call_command("oversight_refresh", year=YEAR, stdout=io.StringIO())   # the nightly job, every county
    assert _cards(client.get(f"/oversight/{COUNTY}/", {"year": YEAR}))["hh_registered"].value == 3
    assert Snapshot.objects.filter(region_id=OTHER_VILLAGE, indicator="hh_registered").get().value == 1
    # the nightly job counts every level: a province board reads stored numbers, equal to its live count
    from django.utils import timezone as tz

    from fupin.core.models import User

    province = User.objects.create(username="province", role="inspector", region_id="510000000000",
                                   password_changed_at=tz.now())
    client.force_login(province)
    stored = client.get("/oversight/510000000000/", {"year": YEAR})
    live = client.get("/oversight/510000000000/", {"year": YEAR, "live": "1"})
    assert stored.context["counted_at"] is not None and live.context["counted_at"] is None
    assert {k: c.value for k, c in _cards(stored).items()} == {k: c.value for k, c in _cards(live).items()}
    assert _cards(stored)["hh_registered"].value == 4    # 3 in the county, 1 in the other county
    assert [[c["value"] for c in row["cells"]] for row in stored.context["children"]["rows"]] == \
        [[c["value"] for c in row["cells"]] for row in live.context["children"]["rows"]]
    # a reader may refresh only inside its scope
    assert login("township_officer").post(f"/oversight/{COUNTY}/refresh/").status_code == 404


def test_lookback_draws_closed_problems_reproducibly_and_records_the_recheck(board_world, login):
    u = board_world.users["county_officer"]
    for i in range(6):
        Problem.objects.create(type="recheck", title=f"已销号-{i}", region_id=V1, owner_unit="村委", state="verified",
                               deadline=TODAY, closed_on=TODAY, created_by=u)
    client = login("county_officer")
    r = client.post("/oversight/problems/lookback/", {"seed": "回头看〔2026〕2号", "count": "3"})
    assert r.status_code == 302
    first = AuditEvent.objects.get(object_type="lookback")
    page = client.get(r["Location"])
    drawn = [p.pk for p in page.context["problems"]]
    closed = set(Problem.objects.filter(state="verified").values_list("pk", flat=True))   # 6 + the one of conftest
    assert len(drawn) == 3 and set(drawn) <= closed and drawn == sorted(first.detail["problems"])
    client.post("/oversight/problems/lookback/", {"seed": "回头看〔2026〕2号", "count": "3"})
    assert AuditEvent.objects.filter(object_type="lookback").order_by("-id").first().detail["problems"] == \
        first.detail["problems"]
    # one holds, one has slipped back
    assert client.post(f"/oversight/problems/{drawn[0]}/confirm/", {"note": "入户复核，整改到位"}).status_code == 302
    assert client.post(f"/oversight/problems/{drawn[1]}/reopen/", {"note": "房屋又出现裂缝"}).status_code == 302
    states = dict(Problem.objects.filter(pk__in=drawn[:2]).values_list("pk", "state"))
    assert states == {drawn[0]: "verified", drawn[1]: "reopened"}
    assert AuditEvent.objects.filter(object_type="problem", object_id=str(drawn[0]),
                                     detail__action="confirm").count() == 1
    assert login("village_cadre").post("/oversight/problems/lookback/", {"seed": "x", "count": "1"}).status_code == 403


def test_a_rectification_campaign_in_phases_gathers_its_problems(board_world, login):
    from fupin.oversight.models import RectificationCampaign

    county = login("county_officer")
    day = dt.timedelta(days=1)
    data = {"name": "重精准、补短板、促攻坚专项整改", "region": COUNTY,
            "mobilise_start": (TODAY - 3 * day).isoformat(), "mobilise_end": (TODAY - 2 * day).isoformat(),
            "rectify_start": (TODAY - day).isoformat(), "rectify_end": (TODAY + 7 * day).isoformat(),
            "inspect_start": (TODAY + 8 * day).isoformat(), "inspect_end": (TODAY + 10 * day).isoformat()}
    bad = {**data, "rectify_start": (TODAY - 2 * day).isoformat()}   # overlaps the first phase
    assert county.post("/oversight/problems/campaigns/new/", bad).status_code == 400
    assert RectificationCampaign.objects.count() == 0
    assert county.post("/oversight/problems/campaigns/new/", data).status_code == 302
    c = RectificationCampaign.objects.get()
    assert [p["name"] for p in c.phases] == ["动员部署", "整改落实", "督查总结"] and c.phase_on(TODAY) == "整改落实"
    county.post("/oversight/problems/new/", {"type": "disbursement", "title": "资金拨付进度慢", "region": COUNTY,
                                             "owner_unit": "县财政局", "campaign": c.pk})
    page = county.get("/oversight/problems/", {"campaign": c.pk})
    assert [p.title for p in page.context["page"]] == ["资金拨付进度慢"]
    row = page.context["campaigns"][0]
    assert (row.phase_now, row.n, row.closed) == ("整改落实", 1, 0)
    assert login("village_cadre").post("/oversight/problems/campaigns/new/", data).status_code == 403
    assert RectificationCampaign.objects.count() == 1
