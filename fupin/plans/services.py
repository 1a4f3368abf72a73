"""Writes of the plans room: yearly plans and their items, leading groups and their members,
meetings and their decisions, and an item's completion with its evidence. Access is checked
before the transaction opens; every change writes its audit event in the same transaction."""
from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Max
from django.db.models import Q as models_q

from fupin.core import access, audit
from fupin.core.errors import FupinError, InvalidInput, NotFound
from fupin.core.models import AuditAction, Level, Region, User
from fupin.core.roles import Cap

from .models import GroupLevel, GroupMember, GroupRole, Item, ItemState, LeadingGroup, Meeting, Plan


# ---- loading through the access layer -------------------------------------------------------------

def access_plan(user: User, pk: int, cap: str = Cap.READ) -> Plan:
    access.require(user, cap)
    lo, hi = access.scope_range(user)
    plan = Plan.objects.select_related("region", "school").filter(pk=pk, region_id__gte=lo, region_id__lte=hi).first()
    if plan is None:
        raise NotFound(f"找不到计划（编号 {pk}），或不在您的管辖范围内")
    return plan


def access_group(user: User, pk: int, cap: str = Cap.READ) -> LeadingGroup:
    access.require(user, cap)
    lo, hi = access.scope_range(user)
    group = LeadingGroup.objects.select_related("region", "school").filter(
        pk=pk, region_id__gte=lo, region_id__lte=hi).first()
    if group is None:
        raise NotFound(f"找不到领导小组（编号 {pk}），或不在您的管辖范围内")
    return group


def access_item(user: User, pk: int, cap: str = Cap.READ) -> Item:
    access.require(user, cap)
    lo, hi = access.scope_range(user)
    item = Item.objects.select_related("plan__region", "meeting__group__region").filter(pk=pk).first()
    region = None if item is None else (item.plan.region_id if item.plan_id else item.meeting.group.region_id)
    if item is None or not lo <= region <= hi:
        raise NotFound(f"找不到事项（编号 {pk}），或不在您的管辖范围内")
    return item


def _own_region(user: User, code: str, what: str) -> Region:
    region = Region.objects.filter(code=code).first()
    if region is None or not access.in_scope(user, code):
        raise NotFound(f"找不到区划 {code[:20]}，或不在您的管辖范围内")
    if region.level not in (Level.COUNTY, Level.TOWNSHIP, Level.VILLAGE):
        raise InvalidInput({"区划": f"{what}应属于县、乡镇或学校所在的村"})
    return region


def _school(user: User, school_id: int | None):
    if school_id is None:
        return None
    from fupin.education.models import School

    lo, hi = access.scope_range(user)
    school = School.objects.filter(pk=school_id, region_id__gte=lo, region_id__lte=hi).first()
    if school is None:
        raise NotFound("找不到所选学校，或不在您的管辖范围内")
    return school


def _text(errors: dict, label: str, value: str, max_len: int, *, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        errors[label] = "必须填写"
    elif len(value) > max_len:
        errors[label] = f"最多 {max_len} 字"
    return value


# ---- plans and items ------------------------------------------------------------------------------

def plan_create(*, actor: User, region_code: str, year: int, title: str, school_id: int | None = None) -> Plan:
    access.require(actor, Cap.PLAN_MANAGE)
    errors = {}
    title = _text(errors, "名称", title, 120)
    if not 2000 <= year <= 2100:
        errors["年度"] = "应为四位年份"
    if errors:
        raise InvalidInput(errors)
    school = _school(actor, school_id)
    region = school.region if school else _own_region(actor, region_code, "计划")
    with transaction.atomic():
        if Plan.objects.filter(region=region, year=year, title=title).exists():
            raise FupinError(f"{region.name}{year}年已有名为“{title}”的计划")
        plan = Plan.objects.create(region=region, school=school, year=year, title=title, created_by=actor)
        audit.record(actor, AuditAction.CREATE, object_type="plan", object_id=plan.pk,
                     summary=f"编制{year}年计划：{title}（{school.name if school else region.name}）")
        return plan


def _item_values(values: dict) -> dict:
    errors = {}
    clean = {"target": _text(errors, "目标任务", values.get("target", ""), 300),
             "measure": _text(errors, "计量单位", values.get("measure", ""), 20, required=False),
             "owner_unit": _text(errors, "责任单位", values.get("owner_unit", ""), 80),
             "owner_person": _text(errors, "责任人", values.get("owner_person", ""), 40, required=False),
             "evidence_required": _text(errors, "佐证材料", values.get("evidence_required", ""), 200, required=False)}
    q = values.get("quantity")
    if q is not None and (not isinstance(q, int) or not 0 < q <= 10_000_000):
        errors["数量"] = "应为正整数"
    clean["quantity"] = q
    due = values.get("due")
    if not isinstance(due, dt.date):
        errors["完成时限"] = "必须填写日期"
    clean["due"] = due
    if errors:
        raise InvalidInput(errors)
    return clean


def item_add(*, actor: User, plan: Plan | None = None, meeting: Meeting | None = None, values: dict) -> Item:
    """A plan's target or a meeting's decision (the caller loaded plan or meeting through access_*)."""
    access.require(actor, Cap.PLAN_MANAGE)
    clean = _item_values(values)
    if plan is not None and clean["due"].year != plan.year:
        raise InvalidInput({"完成时限": f"应在计划年度 {plan.year} 年内"})
    with transaction.atomic():
        owner = {"plan": plan} if plan is not None else {"meeting": meeting}
        number = (Item.objects.filter(**owner).aggregate(n=Max("number"))["n"] or 0) + 1
        item = Item.objects.create(number=number, **owner, **clean)
        where = f"计划“{plan.title}”" if plan is not None else f"会议“{meeting.title}”议定事项"
        audit.record(actor, AuditAction.CREATE, object_type="plan_item", object_id=item.pk,
                     summary=f"{where}第{number}项：{item.target}（{item.owner_unit}，{item.due} 前）")
        return item


def item_done(*, actor: User, item_id: int, done_on: dt.date, evidence: str, done_quantity: int | None = None) -> Item:
    """Mark an item done with what shows it (evidence is required: “以事实说话”)."""
    item = access_item(actor, item_id, Cap.PLAN_MANAGE)
    errors = {}
    evidence = _text(errors, "完成情况与佐证", evidence, 500)
    if done_quantity is not None and (not isinstance(done_quantity, int) or done_quantity < 0):
        errors["完成数量"] = "应为不小于 0 的整数"
    from django.utils import timezone

    if done_on > timezone.localdate():
        errors["完成日期"] = "不能晚于今天"
    if errors:
        raise InvalidInput(errors)
    with transaction.atomic():
        item = Item.objects.select_for_update().get(pk=item.pk)
        if item.state == ItemState.DONE:
            raise FupinError(f"第{item.number}项已于 {item.done_on} 完成")
        item.state, item.done_on, item.evidence, item.done_by = ItemState.DONE, done_on, evidence, actor
        item.done_quantity = done_quantity
        item.save(update_fields=["state", "done_on", "evidence", "done_by", "done_quantity"])
        late = f"，逾期 {(done_on - item.due).days} 天" if done_on > item.due else ""
        audit.record(actor, AuditAction.UPDATE, object_type="plan_item", object_id=item.pk,
                     summary=f"第{item.number}项完成（{done_on}{late}）：{item.target}")
        return item


# ---- leading groups and meetings ----------------------------------------------------------------

def group_create(*, actor: User, region_code: str, name: str, office: str = "", school_id: int | None = None) -> LeadingGroup:
    access.require(actor, Cap.PLAN_MANAGE)
    errors = {}
    name = _text(errors, "名称", name, 120)
    office = _text(errors, "办公室设在", office, 120, required=False)
    if errors:
        raise InvalidInput(errors)
    school = _school(actor, school_id)
    region = school.region if school else _own_region(actor, region_code, "领导小组")
    level = GroupLevel.SCHOOL if school else (GroupLevel.COUNTY if region.level == Level.COUNTY else GroupLevel.TOWNSHIP)
    if not school and region.level == Level.VILLAGE:
        raise InvalidInput({"区划": "领导小组设在县或乡镇；学校的领导小组请选择学校"})
    with transaction.atomic():
        group = LeadingGroup.objects.create(region=region, level=level, school=school, name=name, office=office,
                                            created_by=actor)
        audit.record(actor, AuditAction.CREATE, object_type="leading_group", object_id=group.pk,
                     summary=f"成立{name}（{school.name if school else region.name}）")
        return group


def member_add(*, actor: User, group: LeadingGroup, role: str, name: str, post: str = "", duties: str = "",
               start: dt.date) -> GroupMember:
    access.require(actor, Cap.PLAN_MANAGE)
    errors = {}
    if role not in GroupRole.values:
        errors["职务"] = "应为组长、副组长或成员"
    name = _text(errors, "姓名", name, 40)
    post = _text(errors, "单位与职务", post, 80, required=False)
    duties = _text(errors, "分工", duties, 300, required=False)
    if errors:
        raise InvalidInput(errors)
    with transaction.atomic():
        current_leader = GroupMember.objects.select_for_update().filter(group=group, role=GroupRole.LEADER,
                                                                        end__isnull=True).first()
        if role == GroupRole.LEADER and current_leader is not None:
            # a new leader takes over: the predecessor's term ends the day before
            if start <= current_leader.start:
                raise InvalidInput({"起": f"应晚于现任组长 {current_leader.name} 的任职日期 {current_leader.start}"})
            current_leader.end = start - dt.timedelta(days=1)
            current_leader.save(update_fields=["end"])
        m = GroupMember.objects.create(group=group, role=role, name=name, post=post, duties=duties, start=start)
        audit.record(actor, AuditAction.UPDATE, object_type="leading_group", object_id=group.pk,
                     summary=f"{group.name}：{name}任{GroupRole(role).label}（{start} 起）")
        return m


def meeting_record(*, actor: User, group: LeadingGroup, date: dt.date, title: str, minutes: str = "") -> Meeting:
    access.require(actor, Cap.PLAN_MANAGE)
    errors = {}
    title = _text(errors, "会议名称", title, 120)
    minutes = _text(errors, "纪要", minutes, 5000, required=False)
    if errors:
        raise InvalidInput(errors)
    with transaction.atomic():
        m = Meeting.objects.create(group=group, date=date, title=title, minutes=minutes, created_by=actor)
        audit.record(actor, AuditAction.CREATE, object_type="meeting", object_id=m.pk,
                     summary=f"{group.name}召开{title}（{date}）")
        return m


def access_meeting(user: User, pk: int, cap: str = Cap.READ) -> Meeting:
    access.require(user, cap)
    lo, hi = access.scope_range(user)
    m = Meeting.objects.select_related("group__region").filter(pk=pk, group__region_id__gte=lo,
                                                                group__region_id__lte=hi).first()
    if m is None:
        raise NotFound(f"找不到会议（编号 {pk}），或不在您的管辖范围内")
    return m


# ---- bulletins (工作简报) --------------------------------------------------------------------------

def bulletin_text(user: User, region: Region, start: dt.date, end: dt.date) -> str:
    """The bulletin's body, composed from what happened in [start, end] in the region: plan items
    completed, items overdue at the end, meetings and their decisions, villages that exited, and
    new people responsible for villages. Plain Chinese paragraphs; the drafter may edit them."""
    from fupin.villages.models import Duty, Village

    from .models import Item

    lo, hi = region.code_range()
    slo, shi = access.scope_range(user)
    lo, hi = max(lo, slo), min(hi, shi)
    in_region = (models_q(plan__region_id__gte=lo, plan__region_id__lte=hi)
                 | models_q(meeting__group__region_id__gte=lo, meeting__group__region_id__lte=hi))
    done = list(Item.objects.filter(in_region, state=ItemState.DONE, done_on__gte=start, done_on__lte=end)
                .select_related("plan", "meeting").order_by("done_on", "id"))
    overdue = list(Item.objects.filter(in_region, due__lt=end).exclude(done_on__lte=end)
                   .select_related("plan", "meeting").order_by("due", "id"))
    meetings = list(Meeting.objects.filter(group__region_id__gte=lo, group__region_id__lte=hi, date__gte=start,
                                           date__lte=end).select_related("group").prefetch_related("items")
                    .order_by("date", "id"))
    exits = list(Village.objects.filter(region_id__gte=lo, region_id__lte=hi, exited_on__gte=start, exited_on__lte=end)
                 .select_related("region").order_by("exited_on", "region_id"))
    duties = list(Duty.objects.filter(village_id__gte=lo, village_id__lte=hi, start__gte=start, start__lte=end)
                  .select_related("village__region", "replaces").order_by("start", "id"))
    period = f"{start:%Y年%m月%d日}至{end:%Y年%m月%d日}"
    parts = [f"{period}，{region.name}完成计划任务和议定事项 {len(done)} 项，截至期末逾期未完成 {len(overdue)} 项，"
             f"召开领导小组会议 {len(meetings)} 次，{len(exits)} 个贫困村整村退出。"]
    if done:
        parts.append("一、完成的任务：" + "；".join(
            f"{i.target}（{i.owner_unit}，{i.done_on:%m月%d日}完成{'，逾期' if i.done_on > i.due else ''}）" for i in done) + "。")
    if overdue:
        parts.append("二、逾期未完成的任务：" + "；".join(
            f"{i.target}（{i.owner_unit}{('，' + i.owner_person) if i.owner_person else ''}，时限{i.due:%m月%d日}）"
            for i in overdue) + "。请责任单位抓紧办理。")
    if meetings:
        parts.append("三、会议：" + "；".join(
            f"{m.date:%m月%d日}{m.group.name}召开{m.title}，议定事项 {len(m.items.all())} 项" for m in meetings) + "。")
    if exits:
        parts.append("四、贫困村退出：" + "、".join(f"{v.region.name}（{v.exited_on:%m月%d日}）" for v in exits) + "。")
    if duties:
        parts.append("五、帮扶力量：" + "；".join(
            f"{d.village.region.name}{d.get_kind_display()}{d.name}{f'接替{d.replaces.name}' if d.replaces else ''}"
            f"（{d.start:%m月%d日}起）" for d in duties) + "。")
    return "\n\n".join(parts)


def bulletin_compose(*, actor: User, region_code: str, start: dt.date, end: dt.date, title: str = "") -> "Bulletin":
    from .models import Bulletin

    access.require(actor, Cap.PLAN_MANAGE)
    region = _own_region(actor, region_code, "简报")
    if region.level == Level.VILLAGE:
        raise InvalidInput({"区划": "简报由县或乡镇编发"})
    if end < start:
        raise InvalidInput({"期间止": "不能早于期间起"})
    body = bulletin_text(actor, region, start, end)
    with transaction.atomic():
        number = (Bulletin.objects.filter(region=region).aggregate(n=Max("number"))["n"] or 0) + 1
        title = (title or "").strip()[:120] or f"{region.name}脱贫攻坚工作简报（第{number}期）"
        b = Bulletin.objects.create(region=region, number=number, title=title, start=start, end=end, body=body,
                                    created_by=actor)
        audit.record(actor, AuditAction.CREATE, object_type="bulletin", object_id=b.pk,
                     summary=f"编写{title}（{start}至{end}）")
        return b


def access_bulletin(user: User, pk: int, cap: str = Cap.READ) -> "Bulletin":
    from .models import Bulletin

    access.require(user, cap)
    lo, hi = access.scope_range(user)
    b = Bulletin.objects.select_related("region").filter(pk=pk, region_id__gte=lo, region_id__lte=hi).first()
    # a draft is seen only by those who may edit it
    if b is None or (b.published_at is None and not access.may(user, Cap.PLAN_MANAGE)):
        raise NotFound(f"找不到简报（编号 {pk}），或不在您的管辖范围内")
    return b


def bulletin_edit(*, actor: User, pk: int, title: str, body: str) -> "Bulletin":
    b = access_bulletin(actor, pk, Cap.PLAN_MANAGE)
    errors = {}
    title = _text(errors, "标题", title, 120)
    body = _text(errors, "正文", body, 20000)
    if errors:
        raise InvalidInput(errors)
    with transaction.atomic():
        if b.published_at is not None:
            raise FupinError("简报已发布，不能再修改")
        changed = audit.changes({"title": b.title, "body": b.body}, {"title": title, "body": body})
        b.title, b.body = title, body
        b.save(update_fields=["title", "body"])
        audit.record(actor, AuditAction.UPDATE, object_type="bulletin", object_id=b.pk, summary=f"修改简报：{title}",
                     detail={"changed": sorted(changed)})
        return b


def bulletin_publish(*, actor: User, pk: int) -> "Bulletin":
    from django.utils import timezone

    b = access_bulletin(actor, pk, Cap.PLAN_MANAGE)
    with transaction.atomic():
        if b.published_at is not None:
            raise FupinError(f"简报已于 {timezone.localtime(b.published_at):%Y-%m-%d %H:%M} 发布")
        b.published_at, b.published_by = timezone.now(), actor
        b.save(update_fields=["published_at", "published_by"])
        audit.record(actor, AuditAction.UPDATE, object_type="bulletin", object_id=b.pk, summary=f"发布简报：{b.title}")
        return b
