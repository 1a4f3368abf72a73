"""Work plans, leading groups and meeting decisions (issue #22 §4): items tracked to done with
evidence, overdue flagged, the mid-year report and the year-end summary computed from the items."""
from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from fupin.core.errors import AccessDenied, FupinError, InvalidInput, NotFound
from fupin.core.models import AuditEvent
from fupin.plans import selectors, services
from fupin.plans.models import GroupMember, Item, Plan

from .conftest import COUNTY, T1, T2


def _item(target, owner, due, **kw):
    return {"target": target, "owner_unit": owner, "due": due, **kw}


@pytest.fixture
def plan(world):
    officer = world.users["county_officer"]
    p = services.plan_create(actor=officer, region_code=COUNTY, year=2026, title="2026年教育扶贫工作计划")
    a = services.item_add(actor=officer, plan=p, values=_item("完成控辍保学摸底", "县教育局", dt.date(2026, 3, 31)))
    b = services.item_add(actor=officer, plan=p, values=_item("为班级配备多媒体", "县教育局", dt.date(2026, 5, 31),
                                                              quantity=12, measure="个班", owner_person="王校长"))
    services.item_add(actor=officer, plan=p, values=_item("建成村幼儿园", "县发改局", dt.date(2026, 6, 15)))
    services.item_add(actor=officer, plan=p, values=_item("完成教师培训", "县教育局", dt.date(2026, 10, 31)))
    services.item_done(actor=officer, item_id=a.pk, done_on=dt.date(2026, 3, 20), evidence="摸底台账已归档")
    services.item_done(actor=officer, item_id=b.pk, done_on=dt.date(2026, 7, 10), evidence="验收单", done_quantity=12)
    return p


def test_the_midyear_report_counts_items_as_they_stood_on_30_june(plan):
    # cut-off: the end of the pack's mid-year month (6) → 30 June. Done by then: item 1 only;
    # item 2 (due 31 May, done 10 July) and item 3 (due 15 June) were overdue; item 4 not yet due.
    r = selectors.report(plan, "midyear")
    assert r["as_of"] == dt.date(2026, 6, 30)
    assert ([i.number for i in r["done"]], [i.number for i in r["overdue"]], [i.number for i in r["pending"]]) == (
        [1], [2, 3], [4])
    assert (r["permille"], r["percent"]) == (250, "25.0%")
    assert r["title"] == "甘洛县2026年半年执行情况报告"
    assert r["lead"] == ("甘洛县2026年《2026年教育扶贫工作计划》共 4 项任务，截至2026年06月30日已完成 1 项（完成率 25.0%）；"
                         "逾期未完成 2 项；尚未到期 1 项。")
    # most overdue first, then by name
    assert r["by_owner"] == [{"owner": "县发改局", "total": 1, "done": 0, "overdue": 1},
                             {"owner": "县教育局", "total": 3, "done": 1, "overdue": 1}]


def test_the_year_end_summary_names_late_completions(plan):
    r = selectors.report(plan, "yearend")
    assert ([i.number for i in r["done"]], [i.number for i in r["overdue"]], [i.number for i in r["late"]]) == (
        [1, 2], [3, 4], [2])
    assert r["lead"] == ("甘洛县2026年《2026年教育扶贫工作计划》共 4 项任务，截至2026年12月31日已完成 2 项（完成率 50.0%），"
                         "其中逾期完成 1 项；逾期未完成 2 项；尚未到期 0 项。")


def test_an_item_is_done_once_with_its_evidence_and_the_change_is_audited(plan, world):
    officer = world.users["county_officer"]
    item = plan.items.get(number=3)
    with pytest.raises(InvalidInput) as exc:
        services.item_done(actor=officer, item_id=item.pk, done_on=dt.date(2026, 8, 1), evidence=" ")
    assert exc.value.errors == {"完成情况与佐证": "必须填写"}
    with pytest.raises(InvalidInput) as exc:
        services.item_done(actor=officer, item_id=item.pk, done_on=timezone.localdate() + dt.timedelta(days=1),
                           evidence="竣工验收")
    assert exc.value.errors == {"完成日期": "不能晚于今天"}
    services.item_done(actor=officer, item_id=item.pk, done_on=dt.date(2026, 8, 1), evidence="竣工验收")
    ev = AuditEvent.objects.filter(object_type="plan_item", object_id=str(item.pk), action="update").get()
    assert ev.summary == "第3项完成（2026-08-01，逾期 47 天）：建成村幼儿园"
    with pytest.raises(FupinError) as exc:
        services.item_done(actor=officer, item_id=item.pk, done_on=dt.date(2026, 8, 2), evidence="x")
    assert exc.value.message == "第3项已于 2026-08-01 完成"


def test_items_must_fall_in_the_plan_year_and_refusals_change_nothing(plan, world):
    with pytest.raises(InvalidInput) as exc:
        services.item_add(actor=world.users["county_officer"], plan=plan,
                          values=_item("x", "县教育局", dt.date(2027, 1, 1)))
    assert exc.value.errors == {"完成时限": "应在计划年度 2026 年内"}
    with pytest.raises(AccessDenied):
        services.item_add(actor=world.users["village_cadre"], plan=plan, values=_item("x", "村委会", dt.date(2026, 5, 1)))
    assert plan.items.count() == 4
    assert AuditEvent.objects.filter(action="denied", object_id="plan_manage").count() == 1
    # a township officer cannot reach the county's plan
    with pytest.raises(NotFound):
        services.access_plan(world.users["township_officer"], plan.pk)


def test_a_leading_group_its_leader_handover_and_a_meetings_decisions(world):
    officer = world.users["township_officer"]
    g = services.group_create(actor=officer, region_code=T1, name="新市坝镇脱贫攻坚领导小组", office="镇扶贫工作站")
    assert (g.level, g.region_id) == ("township", T1)
    first = services.member_add(actor=officer, group=g, role="leader", name="张书记", post="镇党委书记",
                                duties="全面负责", start=dt.date(2025, 1, 1))
    services.member_add(actor=officer, group=g, role="deputy", name="李镇长", post="镇长", duties="分管产业扶贫",
                        start=dt.date(2025, 1, 1))
    services.member_add(actor=officer, group=g, role="leader", name="赵书记", post="镇党委书记", start=dt.date(2026, 4, 1))
    first.refresh_from_db()
    assert first.end == dt.date(2026, 3, 31)
    assert list(GroupMember.objects.filter(group=g, end__isnull=True).values_list("role", "name")) == [
        ("deputy", "李镇长"), ("leader", "赵书记")]
    m = services.meeting_record(actor=officer, group=g, date=dt.date(2026, 4, 10), title="领导小组第一次会议",
                                minutes="研究问题整改")
    d = services.item_add(actor=officer, meeting=m, values=_item("5月10日前督促问题整改到位", "各包村领导",
                                                                 dt.date(2026, 5, 10)))
    assert (d.number, d.plan_id, d.meeting_id) == (1, None, m.pk)
    overdue = list(selectors.overdue_items(officer, today=dt.date(2026, 5, 11)))
    assert overdue == [d]
    assert list(selectors.overdue_items(officer, today=dt.date(2026, 5, 10))) == []
    with pytest.raises(NotFound):
        services.group_create(actor=officer, region_code=T2, name="x")   # another township


def test_the_screens_flag_overdue_items_and_print_the_reports(login, world):
    today = timezone.localdate()
    officer = world.users["county_officer"]
    p = services.plan_create(actor=officer, region_code=COUNTY, year=today.year, title="本年计划")
    late = services.item_add(actor=officer, plan=p, values=_item("已过期的任务", "县扶贫办", dt.date(today.year, 1, 1)))
    services.item_add(actor=officer, plan=p, values=_item("年底的任务", "县扶贫办", dt.date(today.year, 12, 31)))
    c = login("inspector")
    body = c.get(f"/plans/{p.pk}/?overdue=1").content.decode()
    assert "已过期的任务" in body and "年底的任务" not in body and "逾期未完成" in body
    assert "登记完成" not in body                                    # an inspector only reads
    r = c.get(f"/plans/{p.pk}/report/yearend/")
    assert r.status_code == 200 and f"甘洛县{today.year}年年度工作总结" in r.content.decode()
    assert c.get(f"/plans/{p.pk}/report/other/").status_code == 404
    r = c.post(f"/plans/items/{late.pk}/done/", {"done_on": today.isoformat(), "evidence": "x"})
    assert r.status_code == 403 and Item.objects.get(pk=late.pk).state == "open"
    c = login("county_officer")
    r = c.post(f"/plans/items/{late.pk}/done/", {"done_on": today.isoformat(), "evidence": "验收单"})
    assert r.status_code == 302 and Item.objects.get(pk=late.pk).state == "done"
    r = c.get(f"/plans/{p.pk}/items.xlsx")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
    assert Plan.objects.count() == 1


def test_a_schools_condition_gaps_are_its_plan_items_with_quantities(world):
    from fupin.education.models import School

    from .conftest import V1

    officer = world.users["county_officer"]
    school = School.objects.create(code="S1", name="桃源村小学", region_id=V1)
    p = services.plan_create(actor=officer, region_code="", year=2026, title="桃源村小学改薄计划", school_id=school.pk)
    assert (p.region_id, p.school_id) == (V1, school.pk)
    rooms = services.item_add(actor=officer, plan=p, values=_item("新建教室", "县教育局", dt.date(2026, 8, 31),
                                                                  quantity=4, measure="间"))
    services.item_add(actor=officer, plan=p, values=_item("为班级配备多媒体", "县教育局", dt.date(2026, 5, 31),
                                                          quantity=12, measure="个班"))
    services.item_add(actor=officer, plan=p, values=_item("完善学生资助档案", "学校", dt.date(2026, 3, 31)))
    services.item_done(actor=officer, item_id=rooms.pk, done_on=dt.date(2026, 8, 20), evidence="竣工验收",
                       done_quantity=3)
    [row] = selectors.school_gaps(officer, year=2026, today=dt.date(2026, 6, 1))
    assert row["school"] == school and (row["open"], row["overdue"]) == (1, 1)
    assert [(i.target, i.quantity, i.done_amount, i.overdue) for i in row["items"]] == [
        ("新建教室", 4, 3, False), ("为班级配备多媒体", 12, 0, True)]
    assert selectors.school_gaps(world.users["township_officer"], year=2026, today=dt.date(2026, 6, 1))[0]["school"] == school
    assert selectors.school_gaps(officer, year=2025, today=dt.date(2026, 6, 1)) == []


def test_a_bulletin_is_composed_from_the_periods_items_meetings_and_villages(plan, world, login):
    from fupin.villages import services as villages

    from .conftest import V1

    officer = world.users["county_officer"]
    g = services.group_create(actor=officer, region_code=COUNTY, name="甘洛县脱贫攻坚领导小组")
    m = services.meeting_record(actor=officer, group=g, date=dt.date(2026, 7, 3), title="第二次会议")
    services.item_add(actor=officer, meeting=m, values=_item("细化产业扶贫任务", "县农业农村局", dt.date(2026, 9, 30)))
    villages.village_save(actor=officer, code=V1, values={"poor_kind": "poor", "poor_since": dt.date(2014, 10, 1),
                                                          "exited_on": dt.date(2026, 7, 20)})
    villages.duty_assign(actor=officer, code=V1, kind="young_staff", name="王芳", start=dt.date(2026, 7, 1))
    b = services.bulletin_compose(actor=officer, region_code=COUNTY, start=dt.date(2026, 7, 1), end=dt.date(2026, 7, 31))
    assert (b.number, b.title) == (1, "甘洛县脱贫攻坚工作简报（第1期）")
    assert b.body.split("\n\n") == [
        "2026年07月01日至2026年07月31日，甘洛县完成计划任务和议定事项 1 项，截至期末逾期未完成 1 项，召开领导小组会议 1 次，"
        "1 个贫困村整村退出。",
        "一、完成的任务：为班级配备多媒体（县教育局，07月10日完成，逾期）。",
        "二、逾期未完成的任务：建成村幼儿园（县发改局，时限06月15日）。请责任单位抓紧办理。",
        "三、会议：07月03日甘洛县脱贫攻坚领导小组召开第二次会议，议定事项 1 项。",
        "四、贫困村退出：桃源村（07月20日）。",
        "五、帮扶力量：桃源村驻村年轻干部王芳（07月01日起）。"]
    # a draft is not on the page for readers; published, it is
    reader = login("inspector")
    assert reader.get(f"/plans/bulletins/{b.pk}/").status_code == 404
    services.bulletin_edit(actor=officer, pk=b.pk, title=b.title, body=b.body + "\n\n六、下一步工作：抓好整改。")
    services.bulletin_publish(actor=officer, pk=b.pk)
    r = reader.get(f"/plans/bulletins/{b.pk}/")
    assert r.status_code == 200 and "<p>六、下一步工作：抓好整改。</p>" in r.content.decode()
    assert "甘洛县脱贫攻坚工作简报（第1期）" in reader.get("/plans/bulletins/").content.decode()
    with pytest.raises(FupinError) as exc:
        services.bulletin_edit(actor=officer, pk=b.pk, title="x", body="y")
    assert exc.value.message == "简报已发布，不能再修改"
    assert services.bulletin_compose(actor=officer, region_code=COUNTY, start=dt.date(2026, 8, 1),
                                     end=dt.date(2026, 8, 31)).number == 2
