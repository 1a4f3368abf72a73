"""Pairing administration by the county office: units, helpers (quota by kind, exemptions with a
reason), work teams and members, the helper import (all or nothing, idempotent), the fixed
three-year rule when deactivating, and the unpaired list with its export."""
import datetime as dt
import io

import pytest
from openpyxl import Workbook, load_workbook

from fupin.core.errors import AccessDenied, FupinError, InvalidInput
from fupin.core.models import AuditEvent, AuditResult
from fupin.pairing import selectors, services
from fupin.pairing.models import Helper, Pair, Team, TeamMember, Unit

from .conftest import COUNTY, T1, V1

START = dt.date(2025, 1, 6)


@pytest.fixture
def officer(world):
    return world.users["county_officer"]


def test_units_helpers_and_exemptions(world, officer):
    unit = services.unit_save(actor=officer, name="县财政局", region_code=COUNTY)
    with pytest.raises(InvalidInput) as exc:
        services.unit_save(actor=officer, name="县财政局", region_code=COUNTY)
    assert exc.value.errors == {"帮扶单位": "“县财政局”已存在"}
    with pytest.raises(InvalidInput) as exc:
        services.helper_save(actor=officer, unit=unit, name="老李", kind="exempt")
    assert exc.value.errors == {"免于结对原因": "免于结对须注明原因：临近退休、家庭困难"}
    with pytest.raises(InvalidInput) as exc:
        services.helper_save(actor=officer, unit=unit, name="小王", kind="staff", exempt_reason="hardship")
    assert exc.value.errors == {"免于结对原因": "只有“免于结对”的人员填写此项"}
    old = services.helper_save(actor=officer, unit=unit, name="老李", kind="exempt", exempt_reason="near_retirement")
    boss = services.helper_save(actor=officer, unit=unit, name="局长", kind="leader", title="局长")
    assert list(Helper.objects.order_by("pk").values_list("name", "kind", "title", "exempt_reason")) == [
        ("老李", "exempt", "", "near_retirement"), ("局长", "leader", "局长", "")]
    services.pair(actor=officer, helper=boss, household=world.h1, start=START)
    services.pair(actor=officer, helper=boss, household=world.h2, start=START)
    with pytest.raises(FupinError) as exc:   # lowering the quota below the fixed pairs
        services.helper_save(actor=officer, unit=unit, name="局长", kind="staff", helper=boss)
    assert exc.value.message == "局长 现结对 2 户，改为“一般干部”（结对 1 户）前，请先为多出的户办理接替"
    with pytest.raises(FupinError) as exc:
        services.helper_set_active(actor=officer, helper=boss, active=False)
    assert exc.value.message == "局长 还有 2 户结对未解除；结对一定三年不变，请先办理接替（退休、调动、死亡时）后再停用"
    with pytest.raises(FupinError) as exc:
        services.unit_set_active(actor=officer, unit=unit, active=False)
    assert exc.value.message == "“县财政局”还有 2 户结对未解除；结对一定三年不变，请先为这些户办理接替后再停用"
    services.helper_set_active(actor=officer, helper=old, active=False)
    with pytest.raises(FupinError) as exc:
        services.pair(actor=officer, helper=old, household=world.h4, start=START)
    assert exc.value.message == "老李 已停用，不能结对"
    assert AuditEvent.objects.filter(object_type__in=["helper", "pairing_unit"]).count() == 4


def test_only_the_county_office_manages_and_a_refusal_changes_nothing(world):
    with pytest.raises(AccessDenied):
        services.unit_save(actor=world.users["township_officer"], name="镇政府", region_code=T1)
    assert Unit.objects.count() == 0
    assert AuditEvent.objects.filter(actor=world.users["township_officer"], result=AuditResult.DENIED).count() == 1


def test_teams_and_members(world, officer):
    team = services.team_save(actor=officer, name="县农业局驻桃源村工作队", village_code=V1)
    with pytest.raises(InvalidInput) as exc:
        services.team_save(actor=officer, name="x", village_code=T1)
    assert exc.value.errors == {"所驻村": "“新市坝镇”不是村级区划"}
    services.team_member_add(actor=officer, team=team, name="队长甲")
    m = services.team_member_add(actor=officer, team=team, name="队员乙")
    services.team_member_set_active(actor=officer, member=m, active=False)
    services.team_set_active(actor=officer, team=team, active=False)
    assert list(TeamMember.objects.order_by("pk").values_list("name", "active")) == [("队长甲", False), ("队员乙", False)]
    with pytest.raises(FupinError) as exc:
        services.team_member_add(actor=officer, team=Team.objects.get(), name="丙")
    assert exc.value.message == "工作队“县农业局驻桃源村工作队”已撤回"


def _book(rows):
    wb = Workbook()
    ws = wb.active
    ws.append(["单位", "姓名", "职务", "类别", "免于结对原因"])
    for r in rows:
        ws.append(list(r))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_helper_import_is_all_or_nothing_and_idempotent(world, officer):
    bad = _book([("县水利局", "张局长", "局长", "领导干部", None), ("县水利局", "李工", "", "免于结对", None),
                 ("县水利局", "张局长", "", "一般干部", None), ("县水利局", "王某", "", "专家", None)])
    n, problems, errors = services.helpers_import(actor=officer, data=bad, filename="h.xlsx")
    assert (n, errors is not None) == (0, True)
    assert [str(x) for x in problems] == [
        "第5行D列（类别）：“专家”不是可选值；可选：领导干部、一般干部、免于结对",
        "第3行：免于结对须注明原因：临近退休、家庭困难",
        "第4行：与第2行重复"]
    assert (Unit.objects.count(), Helper.objects.count()) == (0, 0)
    good = _book([("县水利局", "张局长", "局长", "领导干部", None), ("县水利局", "李工", "", "免于结对", "临近退休"),
                  ("县交通局", "赵科长", "科长", "一般干部", None)])
    assert services.helpers_import(actor=officer, data=good, filename="h.xlsx")[:2] == (3, [])
    assert services.helpers_import(actor=officer, data=good, filename="h.xlsx")[:2] == (0, [])
    assert sorted(Helper.objects.values_list("unit__name", "name", "kind", "exempt_reason")) == [
        ("县交通局", "赵科长", "staff", ""), ("县水利局", "张局长", "leader", ""), ("县水利局", "李工", "exempt", "near_retirement")]
    assert sorted(Unit.objects.values_list("name", "region_id")) == [("县交通局", COUNTY), ("县水利局", COUNTY)]


def test_unpaired_households_and_helpers_under_quota(world, officer):
    unit = services.unit_save(actor=officer, name="县财政局", region_code=COUNTY)
    boss = services.helper_save(actor=officer, unit=unit, name="局长", kind="leader")
    staff = services.helper_save(actor=officer, unit=unit, name="干部", kind="staff")
    services.helper_save(actor=officer, unit=unit, name="老干部", kind="exempt", exempt_reason="hardship")
    services.pair(actor=officer, helper=boss, household=world.h1, start=START)
    services.pair(actor=officer, helper=staff, household=world.h2, start=START)
    from fupin.registry.models import Household
    Household.objects.filter(pk=world.h4.pk).update(status="exited")   # out of poverty: needs no new helper
    d = selectors.unpaired(officer, COUNTY, dt.date(2026, 6, 1))
    assert [h.number for h in d["households"]] == []
    assert [(r["helper"].name, r["quota"], r["current"]) for r in d["under"]] == [("局长", 2, 1)]
    Household.objects.filter(pk=world.h4.pk).update(status="monitored")
    d = selectors.unpaired(officer, COUNTY, dt.date(2026, 6, 1))
    assert [h.number for h in d["households"]] == ["H4"]


def test_screens_set_up_units_helpers_teams_and_show_the_unpaired(world, login):
    c = login("county_officer")
    c.post("/pairing/admin/", {"action": "unit", "name": "县教育局", "region": COUNTY})
    unit = Unit.objects.get(name="县教育局")
    c.post("/pairing/admin/", {"action": "helper", "unit": str(unit.pk), "name": "刘局长", "title": "局长",
                               "kind": "leader", "exempt_reason": ""})
    c.post("/pairing/admin/", {"action": "import", "file": io.BytesIO(_book([("县教育局", "周老师", "", "一般干部", None)]))})
    c.post("/pairing/admin/teams/", {"action": "team", "name": "驻桃源村工作队", "village": V1})
    team = Team.objects.get()
    c.post("/pairing/admin/teams/", {"action": "member", "team": str(team.pk), "name": "队员甲"})
    assert sorted(Helper.objects.values_list("name", "kind")) == [("刘局长", "leader"), ("周老师", "staff")]
    assert list(team.members.values_list("name", flat=True)) == ["队员甲"]
    page = c.get("/pairing/admin/?kind=leader").content.decode()
    assert "刘局长" in page and "周老师" not in page
    body = c.get(f"/pairing/unpaired/?region={COUNTY}").content.decode()
    assert "没有帮扶责任人的户（3 户）" in body
    assert "县教育局 刘局长（领导干部）：应结对 2 户，已结对 0 户" in body
    helper = Helper.objects.get(name="刘局长")
    assert f'<option value="{helper.pk}">县教育局 刘局长（尚可结对 2 户）</option>' in body
    c.post("/pairing/pairs/", {"helper": str(helper.pk), "household": str(world.h4.pk)})   # picked on the list
    assert Pair.objects.get().household_id == world.h4.pk
    body = c.get(f"/pairing/unpaired/?region={COUNTY}").content.decode()
    assert "没有帮扶责任人的户（2 户）" in body and "县教育局 刘局长（领导干部）：应结对 2 户，已结对 1 户" in body
    xlsx = c.get(f"/pairing/unpaired/?region={COUNTY}&format=xlsx")
    wb = load_workbook(io.BytesIO(xlsx.content))
    assert [r[0] for r in wb["未结对户"].values] == ["户编号", "H1", "H2"]
    assert list(wb["结对不足或超额的帮扶责任人"].values)[1:] == [("县教育局", "刘局长", "领导干部", 2, 1),
                                                          ("县教育局", "周老师", "一般干部", 1, 0)]
    assert login("township_officer").get("/pairing/admin/").status_code == 403


def test_satisfaction_with_the_helper_against_the_packs_100_percent(world, officer):
    from fupin.pairing.models import Visit
    unit = services.unit_save(actor=officer, name="县财政局", region_code=COUNTY)
    boss = services.helper_save(actor=officer, unit=unit, name="局长", kind="leader")
    staff = services.helper_save(actor=officer, unit=unit, name="干部", kind="staff")
    services.pair(actor=officer, helper=boss, household=world.h1, start=START)
    services.pair(actor=officer, helper=boss, household=world.h2, start=START)
    services.pair(actor=officer, helper=staff, household=world.h4, start=START)
    visit = dict(date=dt.date(2026, 3, 1), minutes=30, done="入户")
    Visit.objects.create(helper=boss, household=world.h1, satisfaction="unsatisfied", client_token="a", **visit)
    Visit.objects.create(helper=boss, household=world.h1, satisfaction="satisfied", client_token="b",
                         **{**visit, "date": dt.date(2026, 5, 1)})
    Visit.objects.create(helper=boss, household=world.h2, satisfaction="fair", client_token="c", **visit)
    s = selectors.satisfaction(officer, COUNTY, 2026)
    assert (s["paired"], s["surveyed"], s["satisfied"], s["percent"], s["target_percent"], s["met"]) == (
        3, 2, 1, 50, 100, False)
    assert [(r["pair"].household.number, r["label"]) for r in s["rows"]] == [("H2", "基本满意"), ("H4", "未调查")]


def test_a_helper_account_is_linked_on_screen_and_its_home_shows_my_households(world, officer, client):
    from fupin.core.models import User
    from fupin.core.roles import Role

    unit = services.unit_save(actor=officer, name="县交通局", region_code=COUNTY)
    helper = services.helper_save(actor=officer, unit=unit, name="刘帮扶", kind="staff")
    services.pair(actor=officer, helper=helper, household=world.h1, start=START)
    account = world.users["pairing_helper"]
    client.force_login(officer)
    page = client.get("/pairing/admin/").content.decode()
    assert f'<option value="{account.pk}">pairing_helper</option>' in page
    r = client.post("/pairing/admin/", {"action": "helper_user", "helper": helper.pk, "user": account.pk})
    assert r.status_code == 302
    helper.refresh_from_db()
    assert helper.user_id == account.pk
    assert AuditEvent.objects.filter(object_type="helper", object_id=str(helper.pk)).order_by("pk").last().summary == \
        "帮扶责任人 刘帮扶 关联登录账户 pairing_helper"
    # the helper signs in: home is 我的帮扶户 with the paired household
    client.force_login(account)
    r = client.get("/", follow=True)
    body = r.content.decode()
    assert r.redirect_chain[-1][0] == "/pairing/"
    assert "<title>我的帮扶户" in body and "H1" in body
    # one account, one helper
    other = services.helper_save(actor=officer, unit=unit, name="陈帮扶", kind="staff")
    with pytest.raises(FupinError) as exc:
        services.helper_link_user(actor=officer, helper=other, user=account)
    assert exc.value.message == ("账户“pairing_helper”已关联帮扶责任人 县交通局 刘帮扶；一个账户只能关联一人，"
                                 "请先解除原关联")
    # only 帮扶责任人 accounts of the officer's county
    from fupin.core.errors import NotFound
    outside = User.objects.create(username="helper_other", role=Role.PAIRING_HELPER, region_id="513436100200")
    with pytest.raises(NotFound):
        services.helper_link_user(actor=officer, helper=other, user=outside)
    with pytest.raises(NotFound):
        services.helper_link_user(actor=officer, helper=other, user=world.users["village_cadre"])
    with pytest.raises(AccessDenied):
        services.helper_link_user(actor=world.users["township_officer"], helper=helper, user=None)
    assert Helper.objects.get(pk=helper.pk).user_id == account.pk
    # unlinking: the home says so in Chinese
    client.force_login(officer)
    client.post("/pairing/admin/", {"action": "helper_user", "helper": helper.pk, "user": ""})
    assert Helper.objects.get(pk=helper.pk).user_id is None
