"""Education aid: roster → run → review → approve → ledger → payment lists; idempotence; dropout."""
import datetime as dt
import io

import pytest
from openpyxl import Workbook, load_workbook

from fupin.core.errors import FupinError
from fupin.education import selectors, services
from fupin.education.importer import COLUMNS, import_roster
from fupin.education.models import Enrolment, RunStatus, School
from fupin.funds import services as funds
from fupin.funds.models import Transaction
from fupin.registry.models import Person

from .conftest import COUNTY, T1, V1, V2, pid

SEM = "2024-autumn"


@pytest.fixture
def edu(world):
    # the school-aid office computes (EDU_MANAGE); the county office approves and posts (POST_RUN)
    county, township = world.users["county_officer"], world.users["school_aid"]
    primary = School.objects.create(code="S1", name="桃源小学", region_id=V1, principal="陈校长")
    junior = School.objects.create(code="S2", name="红星中学", region_id=V2)
    budget = funds.budget_create(actor=county, code="edu", name="教育资助", source="central", programme="education",
                                 year=2024, region=COUNTY)
    funds.budget_allocate(actor=county, budget=budget, amount=10_000_000, date=dt.date(2024, 8, 1), decision_id="A1")
    child = world.h1.persons.get(relation="child")              # 张小, born 2012-09-09, registered-poor household
    sib = Person(household=world.h1, name="张妹", id_number=pid("2014-03-03", 42), birth_date=dt.date(2014, 3, 3),
                 sex="F", relation="child", labour="none")
    sib.save()
    teen = Person(household=world.h4, name="赵少", id_number=pid("2011-05-05", 73), birth_date=dt.date(2011, 5, 5),
                  sex="M", relation="child", labour="none")
    teen.save()
    Enrolment.objects.create(person=child, school=junior, semester=SEM, stage="junior", grade=1, boarding=True)
    Enrolment.objects.create(person=sib, school=primary, semester=SEM, stage="primary", grade=4, boarding=False)
    return dict(county=county, township=township, budget=budget, child=child, sib=sib, teen=teen,
                primary=primary, junior=junior)


def lines(run):
    return sorted((x.person.name, x.item, x.amount) for x in run.lines.select_related("person"))


def test_a_semester_with_no_students_on_the_roster_is_not_computed(edu, world, login):
    """Said at once, with what to do, rather than an empty run to review; the picker starts at the
    current semester (the next one, listed first, had no roster yet)."""
    from django.utils import timezone

    from fupin.education.models import SubsidyRun
    from fupin.policy import semester as semesters

    with pytest.raises(FupinError, match="^学生名册中没有新市坝镇 2023年春季的在读学生，未计算；"):
        services.run_compute(actor=edu["township"], semester="2023-spring", region_code=T1, budget=edu["budget"])
    assert SubsidyRun.objects.count() == 0
    today = timezone.localdate()
    current = f"{today.year}-{'autumn' if today.month >= 7 else 'spring'}"
    html = login("school_aid").get("/education/").content.decode()
    assert f'<option value="{current}" selected>{semesters.label(current)}</option>' in html
    picker = html[html.index('<select name="semester"'):]
    assert picker[:picker.index("</select>")].count(" selected>") == 1


def test_semester_run_end_to_end_and_idempotent(edu, world):
    county, township = edu["county"], edu["township"]
    run = services.run_compute(actor=township, semester=SEM, region_code=T1, budget=edu["budget"])
    # 甘洛县 pack: junior boarding 625/semester; meals 5 × 100 days for both pupils
    assert lines(run) == [("张妹", "education.nutrition_meals", 50000),
                          ("张小", "education.compulsory_living", 62500), ("张小", "education.nutrition_meals", 50000)]
    assert (run.total, run.lines_count, run.packs) == (162500, 3, "sc-513435/sc-province/cn-national")
    with pytest.raises(FupinError) as exc:
        services.run_post(actor=county, run_id=run.pk)
    assert exc.value.message == f"计算 {run.pk} 尚未审核，不能发放"
    with pytest.raises(FupinError) as exc:
        services.run_approve(actor=township, run_id=run.pk)  # the office that computed cannot approve
    assert exc.value.message == "您的角色没有“审批并过账资助批次”权限，如需办理请联系县级管理员"
    services.run_approve(actor=county, run_id=run.pk)
    services.run_post(actor=county, run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.POSTED
    assert funds.balance(edu["budget"]) == 10_000_000 - 162500
    txn = Transaction.objects.get(decision_type="subsidy_run", decision_id=str(run.pk))
    assert sorted((e.entitlement, e.amount) for e in txn.entries.all()) == [
        ("", -162500), ("education.compulsory_living", 62500), ("education.nutrition_meals", 50000),
        ("education.nutrition_meals", 50000)]
    with pytest.raises(FupinError):
        services.run_post(actor=county, run_id=run.pk)
    # running the same semester again pays nothing twice
    again = services.run_compute(actor=township, semester=SEM, region_code=T1, budget=edu["budget"])
    assert (again.supplementary_to_id, again.lines_count, again.total) == (run.pk, 0, 0)
    services.run_approve(actor=county, run_id=again.pk)
    services.run_post(actor=county, run_id=again.pk)
    assert funds.balance(edu["budget"]) == 10_000_000 - 162500


def test_roster_change_after_posting_gives_a_supplementary_run(edu, world):
    county, township = edu["county"], edu["township"]
    run = services.run_compute(actor=township, semester=SEM, region_code=T1, budget=edu["budget"])
    services.run_approve(actor=county, run_id=run.pk)
    services.run_post(actor=county, run_id=run.pk)
    # the primary pupil becomes a boarder after the run: only the difference is paid
    Enrolment.objects.filter(person=edu["sib"]).update(boarding=True)
    sup = services.run_compute(actor=township, semester=SEM, region_code=T1, budget=edu["budget"])
    assert lines(sup) == [("张妹", "education.compulsory_living", 50000)]
    assert sup.lines.get().already_paid == 0
    assert sup.supplementary_to_id == run.pk


def test_pending_run_blocks_a_second_computation(edu):
    services.run_compute(actor=edu["township"], semester=SEM, region_code=T1, budget=edu["budget"])
    with pytest.raises(FupinError) as exc:
        services.run_compute(actor=edu["township"], semester=SEM, region_code=T1, budget=edu["budget"])
    assert "已有一次已计算待审核的计算" in exc.value.message


def test_review_explanations_match_the_batch(edu):
    run = services.run_compute(actor=edu["township"], semester=SEM, region_code=T1, budget=edu["budget"])
    for line in run.lines.select_related("enrolment__person__household", "enrolment__school"):
        e = services.explain_line(line)
        assert int(e["amount"].replace(".", "")) == line.amount
    living = run.lines.get(item="education.compulsory_living")
    assert services.explain_line(living)["parameters"]["education.compulsory.boarding_living_per_year.junior"]["source"] \
        == "《扶贫工作计划》（乡镇）：初中每生每学期625元"


def test_payment_list_per_school(edu):
    county = edu["county"]
    run = services.run_compute(actor=edu["township"], semester=SEM, region_code=T1, budget=edu["budget"])
    wb = load_workbook(io.BytesIO(selectors.payment_list(county, run.pk)))
    assert wb.sheetnames == ["汇总", "S1", "S2"]
    assert list(wb["汇总"].values) == [("学校代码", "学校名称", "人数", "笔数", "金额（元）"),
                                      ("S1", "桃源小学", 1, 1, 500), ("S2", "红星中学", 1, 2, 1125)]
    s2 = list(wb["S2"].values)
    assert s2[2][:7] == (1, "张小", edu["child"].id_number, "初中", 1, "义务教育生活补助", 625)
    assert s2[-1][6] == 1125
    # amounts are numbers with a money format, so the school's Excel adds them up
    assert [(c.data_type, c.number_format) for c in (wb["S2"]["G3"], wb["S2"]["G5"], wb["汇总"]["E3"])] == [
        ("n", "#,##0.00")] * 3
    assert wb["S2"]["A1"].value.startswith("红星中学 2024年秋季 教育资助发放名单")


def test_dropout_list_on_a_crafted_township(edu, world):
    d = selectors.dropout_list(edu["county"], T1, SEM)
    # T1 children of compulsory age (6 to under 15 on 2024-08-31): 张小 (11), 张妹 (10), 赵少 (13)
    assert (d["children"], [c.name for c in d["missing"]]) == (3, ["赵少"])
    assert (d["rate_permille"], d["target_permille"], d["meets_target"]) == (333, 20, False)
    Enrolment.objects.create(person=edu["teen"], school=edu["junior"], semester=SEM, stage="junior", grade=2)
    d = selectors.dropout_list(edu["county"], T1, SEM)
    assert (d["missing"], d["meets_target"]) == ([], True)
    Enrolment.objects.filter(person=edu["teen"]).update(status="dropped")
    rates = selectors.dropout_rates_by_school(edu["county"], T1, SEM)
    assert [(r["school__code"], r["total"], r["dropped"], r["rate_permille"]) for r in rates] == [
        ("S1", 1, 0, 0), ("S2", 2, 1, 500)]


def roster_xlsx(rows):
    wb = Workbook()
    ws = wb.active
    ws.append([c.header for c in COLUMNS])
    for r in rows:
        ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_roster_import_all_or_nothing_and_idempotent(edu):
    from fupin.core.errors import AccessDenied
    from fupin.core.models import User
    with pytest.raises(AccessDenied):  # the roster is the school aid office's, not the poverty office's
        import_roster(edu["county"], b"", "x.xlsx")
    county = User.objects.get(username="school_aid")
    good = roster_xlsx([["S2", "2024年秋季", edu["teen"].id_number, "赵少", "初中", 2, "是", "在读", "0"]])
    bad = roster_xlsx([["S2", "2024-autumn", edu["teen"].id_number, "赵少", "初中", 2, "是", "在读", 0],
                       ["S9", "2024-autumn", "513435198001010112", "某", "博士", 2, "是", "在读", 0],
                       ["S2", "2025年春季", edu["teen"].id_number, "赵少", "小学", 9, "是", "在读", 0]])
    r = import_roster(county, bad, "bad.xlsx")
    assert [str(p) for p in r.problems] == [
        "第3行A列（学校代码）：学校代码 S9 不存在",
        "第3行C列（身份证号）：校验码错误：最后一位应为 4，实际为 2",
        "第3行E列（学段）：“博士”不是可选值；可选：学前、小学、初中、普通高中、中职、高校",
        "第4行F列（年级）：小学只有1–6年级"]
    assert Enrolment.objects.filter(person=edu["teen"]).count() == 0
    r = import_roster(county, good, "good.xlsx")
    assert (r.ok, r.created) == (True, 1)
    r = import_roster(county, good, "good.xlsx")
    assert (r.created, r.updated, r.unchanged) == (0, 0, 1)
    e = Enrolment.objects.get(person=edu["teen"])
    assert (e.semester, e.stage, e.boarding, e.school.code) == ("2024-autumn", "junior", True, "S2")


def test_household_page_shows_this_years_education_entitlements(edu, world, login):
    c = login("county_officer")
    html = c.get(f"/households/{world.h1.pk}/").content.decode()
    # entitlements are for the current year; the fixture's enrolments are 2024, so none show
    assert "本年度没有在读学生的资助" in html
    year = dt.date.today().year
    Enrolment.objects.create(person=edu["child"], school=edu["junior"], semester=f"{year}-spring", stage="junior",
                             grade=1, boarding=True)
    html = c.get(f"/households/{world.h1.pk}/").content.decode()
    assert "义务教育生活补助</td><td>625.00</td>" in html
    assert "营养膳食补助</td><td>500.00</td>" in html


def test_run_pages_through_the_browser_stack(edu, login):
    c = login("school_aid")
    r = c.post("/education/", {"semester": SEM, "region": T1, "budget": edu["budget"].pk})
    from fupin.education.models import SubsidyRun
    from fupin.jobs.models import Job

    run_id = SubsidyRun.objects.get().pk   # computed by a job: the answer is the job's page, which links the run
    assert r["Location"] == f"/jobs/{Job.objects.get().pk}/" and Job.objects.get().link == f"/education/runs/{run_id}/"
    html = c.get(f"/education/runs/{run_id}/").content.decode()
    assert '<b id="run-total">1,625.00</b>' in html and "桃源小学" in html
    line = Enrolment.objects.get(person=edu["child"]).runline_set.get(item="education.compulsory_living")
    explained = c.get(f"/education/lines/{line.pk}/explain/").json()
    assert explained["amount"] == "625.00"
    # the page shows the trace, each parameter by its description, never its code
    assert explained["trace"][0] == "政策：四川某县" and "education." not in "".join(explained["trace"])
    # what the page shows and nothing more: not the case's inputs (a student's 低保/特困 status), not the codes
    assert sorted(explained) == ["amount", "date", "label", "pack", "sentence", "trace"]
    # a role that may not read the registry (an auditor, a hospital's support doctor) is refused, and audited
    from fupin.core.models import AuditEvent

    for role in ("auditor", "support_staff"):
        r = login(role).get(f"/education/lines/{line.pk}/explain/")
        assert (r.status_code, AuditEvent.objects.filter(actor__username=role, result="denied",
                                                         summary=f"查看发放项 {line.pk}").count()) == (403, 1)
    c = login("school_aid")
    c2 = login("county_officer")
    c2.post(f"/education/runs/{run_id}/approve/")
    c2.post(f"/education/runs/{run_id}/post/")
    assert funds.balance(edu["budget"]) == 10_000_000 - 162500
    assert c2.get(f"/education/runs/{run_id}/payments.xlsx").content[:2] == b"PK"
    assert c2.get("/funds/").status_code == 200


def test_dropout_page_five_heads_and_visit(edu, login, world):
    c = login("county_officer")
    r = c.post("/education/five-heads/", {"township": T1, "semester": SEM, "county_head": "甲县长",
                                          "township_head": "乙镇长", "bureau_head": "丙局长"})
    assert r.status_code == 302
    html = c.get(f"/education/dropout/?township={T1}&semester={SEM}").content.decode()
    assert '<b id="missing-count">1</b>' in html
    assert "五长：县长 甲县长；乡镇长 乙镇长；教育局长 丙局长" in html
    assert "<td data-label=\"家长\">赵七</td>" in html
    r = c.post(f"/education/dropout/{edu['teen'].pk}/visit/", {"date": "2024-09-10", "finding": "在外打工", "returned": "1"})
    assert r.status_code == 302
    from fupin.education.models import DropoutVisit
    v = DropoutVisit.objects.get()
    assert (v.person_id, v.returned, v.finding) == (edu["teen"].pk, True, "在外打工")
    assert c.post("/education/five-heads/", {"township": V1, "county_head": "x", "township_head": "y",
                                             "bureau_head": "z"}).status_code == 400


def test_run_actions_belong_to_their_offices(edu, world, login):
    """Computing is the school-aid office's (EDU_MANAGE); approving and posting the county
    office's (POST_RUN). A refusal changes nothing and leaves its audit row."""
    from fupin.core.models import AuditEvent

    denied = lambda: AuditEvent.objects.filter(result="denied").count()  # noqa: E731
    n = denied()
    with pytest.raises(FupinError) as exc:
        services.run_compute(actor=world.users["township_officer"], semester=SEM, region_code=T1, budget=edu["budget"])
    assert exc.value.message == "您的角色没有“管理学生资助名册与批次”权限，如需办理请联系县级管理员"
    run = services.run_compute(actor=edu["township"], semester=SEM, region_code=T1, budget=edu["budget"])
    with pytest.raises(FupinError) as exc:
        services.run_approve(actor=world.users["school_aid"], run_id=run.pk)
    assert exc.value.message == "您的角色没有“审批并过账资助批次”权限，如需办理请联系县级管理员"
    with pytest.raises(FupinError):
        services.run_post(actor=world.users["county_admin"], run_id=run.pk)
    run.refresh_from_db()
    assert (run.status, denied(), Transaction.objects.filter(decision_type="subsidy_run").count()) == \
        (RunStatus.COMPUTED, n + 3, 0)
