"""The project library: proposing, the life cycle whose approvers are pack data, progress with
photos, money from the plan through the ledger to the fen, the public notice and its PDF."""
import datetime as dt
import io

import pytest
from django.db.models import Sum

from fupin.core.errors import AccessDenied, FupinError, InvalidInput, NotFound
from fupin.core.models import AuditEvent
from fupin.funds.models import Account, Entry, Transaction
from fupin.projects import selectors, services
from fupin.projects.models import Asset, Progress, Project, Step

from .conftest import COUNTY, V1, V3

D = dt.date(2026, 3, 1)


def _propose(world, who="village_cadre", region=V1, **kw):
    args = dict(actor=world.users[who], region_code=region, name="桃源村自来水工程", year=2026, category="infrastructure",
                content="新打自来水井1眼，主管道3000米", implementer="甘洛县水利建筑公司", start=D, end=dt.date(2026, 10, 31),
                budget={"central": 30_000_000, "social": 5_000_050}, household_ids=[world.h1.pk])
    args.update(kw)
    return services.project_create(**args)


def _through(world, project, upto):
    """Walk the life cycle with the office the pack names for each step."""
    who = {"review": "township_officer", "approve": "county_officer", "start": "township_officer",
           "accept": "county_officer", "hand_over": "county_officer", "evaluate": "county_officer"}
    project = Project.objects.get(pk=project.pk)
    while (step := services.next_step(project)) is not None and step["key"] != upto:
        key = step["key"]
        services.project_step(actor=world.users[who[key]], project=project, key=key, date=D, note="验收合格：水质达标",
                              score=92, asset={"name": "自来水井及管网", "owner": "桃源村股份经济合作社",
                                               "value": 35_000_050, "beneficiaries": 1})


def test_proposing_copies_the_lifecycle_and_the_plan(world):
    p = _propose(world)
    assert (p.number, p.state, p.region_id) == ("XM513435-2026-001", "proposed", V1)
    assert [s["key"] for s in p.lifecycle["steps"]] == ["review", "approve", "start", "accept", "hand_over", "evaluate"]
    assert sorted(p.budget.values_list("source", "amount")) == [("central", 30_000_000), ("social", 5_000_050)]
    assert list(p.beneficiaries.values_list("household__number", flat=True)) == ["H1"]
    assert AuditEvent.objects.filter(object_type="project", object_id=str(p.pk)).get().summary == \
        "申报项目 XM513435-2026-001 桃源村自来水工程，计划投资 350000.50 元，受益 1 户"


def test_bad_proposals_say_what_is_wrong_and_write_nothing(world):
    with pytest.raises(InvalidInput) as exc:
        _propose(world, name=" ", category="roads", end=dt.date(2026, 1, 1), budget={"central": 0})
    assert exc.value.errors == {"项目名称": "必须填写", "类别": "应为 产业发展、基础设施、住房保障、教育扶贫、健康扶贫、易地扶贫搬迁、技能培训、其他 之一",
                                "计划完工": "不能早于计划开工日期 2026-03-01", "计划投资": "各来源金额不能为负，合计须大于0"}
    with pytest.raises(InvalidInput) as exc:   # a household of another county
        _propose(world, household_ids=[world.h3.pk])
    assert exc.value.errors == {"受益户": "有受益户找不到或不在您的管辖范围内"}
    with pytest.raises(AccessDenied):          # the village cadre of V1 proposes in V3
        _propose(world, region=V3)
    with pytest.raises(AccessDenied):          # the inspector has no project capability
        _propose(world, who="inspector")
    assert Project.objects.count() == 0
    assert AuditEvent.objects.filter(result="denied").count() == 2


def test_each_step_by_the_office_the_pack_names(world):
    p = _propose(world)
    with pytest.raises(AccessDenied) as exc:   # the village may propose but not review
        services.project_step(actor=world.users["village_cadre"], project=p, key="review", date=D)
    assert exc.value.message == "“乡镇审核”不由您的岗位办理"
    with pytest.raises(FupinError) as exc:     # a step out of order
        services.project_step(actor=world.users["county_officer"], project=p, key="approve", date=D)
    assert exc.value.message == "项目当前状态为“已申报”，不能办理这一步；请刷新页面后重试"
    services.project_step(actor=world.users["township_officer"], project=p, key="review", date=D, note="同意")
    with pytest.raises(AccessDenied):          # approval is the county's
        services.project_step(actor=world.users["township_officer"], project=p, key="approve", date=D)
    _through(world, Project.objects.get(pk=p.pk), "accept")
    p.refresh_from_db()
    with pytest.raises(InvalidInput) as exc:
        services.project_step(actor=world.users["county_officer"], project=p, key="accept", date=D, note=" ")
    assert exc.value.errors == {"验收记录": "竣工验收必须填写验收记录（参加人员、结论、问题及整改）"}
    services.project_step(actor=world.users["county_officer"], project=p, key="accept", date=D, note="验收合格")
    with pytest.raises(InvalidInput) as exc:
        services.project_step(actor=world.users["county_officer"], project=p, key="hand_over", date=D,
                              asset={"name": "水井", "owner": "", "value": 0, "beneficiaries": 1})
    assert exc.value.errors == {"产权归属": "必须填写（如某某村集体经济组织）", "资产价值": "须大于0"}
    _through(world, Project.objects.get(pk=p.pk), None)
    p.refresh_from_db()
    assert p.state == "evaluated"
    assert list(Step.objects.filter(project=p).values_list("key", "to_state")) == [
        ("review", "reviewed"), ("approve", "approved"), ("start", "implementing"), ("accept", "accepted"),
        ("hand_over", "handed_over"), ("evaluate", "evaluated")]
    a = Asset.objects.get(project=p)
    assert (a.owner, a.value, a.beneficiaries) == ("桃源村股份经济合作社", 35_000_050, 1)
    assert Step.objects.get(project=p, key="evaluate").score == 92


def test_a_project_of_another_county_is_not_found(world):
    p = _propose(world, who="county_officer", region=COUNTY)
    from fupin.core.models import User
    outsider = User.objects.create(username="other", role="county_officer", region_id="513436000000")
    with pytest.raises(NotFound):
        services.access_project(outsider, p.pk)


def _photo():
    from PIL import Image
    buf = io.BytesIO()
    Image.new("RGB", (2400, 1200), (10, 120, 30)).save(buf, "PNG")
    return buf.getvalue()


def test_progress_with_photos_only_while_implementing(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    p = _propose(world)
    with pytest.raises(FupinError) as exc:
        services.progress_record(actor=world.users["village_cadre"], project=p, date=D, percent=10, note="开挖")
    assert exc.value.message == "项目状态为“已申报”，只有实施中的项目可以报告进度"
    _through(world, p, "accept")
    r = services.progress_record(actor=world.users["village_cadre"], project=p, date=D, percent=40, note="管道铺设过半",
                                 photos=[_photo()])
    assert (r.percent, r.photos.count()) == (40, 1)
    from PIL import Image
    assert Image.open(tmp_path / r.photos.get().file).size == (1600, 800)
    with pytest.raises(InvalidInput) as exc:
        services.progress_record(actor=world.users["village_cadre"], project=p, date=D, percent=30, note="x")
    assert exc.value.errors == {"完成进度": "不能低于上次报告的 40%"}
    with pytest.raises(FupinError):
        services.progress_record(actor=world.users["village_cadre"], project=p, date=D, percent=50, note="x",
                                 photos=[b"not a picture"])
    assert Progress.objects.count() == 1


def test_money_from_plan_to_contractor_and_household_to_the_fen(world):
    officer = world.users["county_officer"]
    p = _propose(world)
    with pytest.raises(FupinError) as exc:   # not before approval
        services.project_allocate(actor=officer, project=p, source="central", amount=100, date=D, decision_id="甘财〔2026〕1号")
    assert exc.value.message == "项目状态为“已申报”，不能拨付资金"
    _through(world, p, "start")
    p.refresh_from_db()
    services.project_allocate(actor=officer, project=p, source="central", amount=20_000_000, date=D, decision_id="甘财〔2026〕1号")
    with pytest.raises(InvalidInput) as exc:  # beyond the plan
        services.project_allocate(actor=officer, project=p, source="central", amount=10_000_001, date=D,
                                  decision_id="甘财〔2026〕2号")
    assert exc.value.errors == {"拨付金额": "超过计划：中央财政计划 300000.00 元，已拨 200000.00 元，最多还能拨 100000.00 元"}
    services.project_allocate(actor=officer, project=p, source="social", amount=5_000_050, date=D, decision_id="社捐1号")
    with pytest.raises(FupinError) as exc:    # payments wait for the works to start
        services.project_pay(actor=officer, project=p, source="central", amount=100, date=D, decision_id="付1")
    assert exc.value.message == "项目状态为“已纳入年度计划”，不能支付资金"
    services.project_step(actor=officer, project=p, key="start", date=D)
    p.refresh_from_db()
    services.project_pay(actor=officer, project=p, source="central", amount=15_000_001, date=D, decision_id="付1")
    services.project_pay(actor=officer, project=p, source="social", amount=1_000_050, date=D, decision_id="付2",
                         household_id=world.h1.pk)
    with pytest.raises(FupinError) as exc:    # more than the line holds
        services.project_pay(actor=officer, project=p, source="central", amount=5_000_000, date=D, decision_id="付3")
    assert exc.value.message == "预算科目“桃源村自来水工程（中央财政）”余额 49999.99 元，不足以支付 50000.00 元；请先拨入资金或调整支付"
    with pytest.raises(InvalidInput):         # a household that does not benefit
        services.project_pay(actor=officer, project=p, source="social", amount=100, date=D, decision_id="付4",
                             household_id=world.h2.pk)
    with pytest.raises(AccessDenied):         # the township may run the project but not pay
        services.project_pay(actor=world.users["township_officer"], project=p, source="social", amount=100, date=D,
                             decision_id="付5")
    m = selectors.money(p)
    assert [(r["source"], r["plan"], r["allocated"], r["paid"], r["balance"], r["paid_permille"]) for r in m["rows"]] == [
        ("central", 30_000_000, 20_000_000, 15_000_001, 4_999_999, 500), ("social", 5_000_050, 5_000_050, 1_000_050, 4_000_000, 200)]
    assert m["total"] == {"plan": 35_000_050, "allocated": 25_000_050, "paid": 16_000_051, "balance": 8_999_999,
                          "paid_permille": 457}
    assert Account.objects.get(code="contractor:513435000000:甘洛县水利建筑公司").entries.aggregate(s=Sum("amount"))["s"] == 15_000_001
    assert Account.objects.get(code="household:H1").entries.aggregate(s=Sum("amount"))["s"] == 1_000_050
    for t in Transaction.objects.all():   # every transaction balanced
        assert t.entries.aggregate(s=Sum("amount"))["s"] == 0
    assert Entry.objects.aggregate(s=Sum("amount"))["s"] == 0
    by_source = selectors.progress_by_source(("513435000000", "513435999999"), 2026)
    assert [(r["source"], r["plan"], r["allocated"], r["paid"], r["paid_permille"]) for r in by_source] == [
        ("central", 30_000_000, 20_000_000, 15_000_001, 500), ("social", 5_000_050, 5_000_050, 1_000_050, 200)]
