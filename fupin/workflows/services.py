"""Every workflow action is one transaction with its audit record (SPEC §3.5, §12).

The steps, tiers, notice lengths and deadlines come from the pack (`workflow.<kind>`), copied
into the instance when it starts, so a province changes its procedure in data alone and an
instance already under way keeps the rules it started with.
"""
from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from fupin.core import access, audit, idcard, workdays
from fupin.core.errors import AccessDenied, FupinError, InvalidInput, NotFound
from fupin.core.models import AuditAction, User
from fupin.core.roles import Cap, Role
from fupin.policy.errors import PolicyError
from fupin.policy.packs import shipped_packs
from fupin.registry.choices import Labour, Status
from fupin.registry.models import Household

from .models import Action, Channel, ExclusionMatch, Instance, Kind, MonitoredType, Notice, Objection, State, labelled

TIER_ROLES = {"village": {Role.VILLAGE_CADRE}, "township": {Role.TOWNSHIP_OFFICER},
              "county": {Role.COUNTY_OFFICER, Role.COUNTY_ADMIN}}
TIER_LABEL = {"village": "村级", "township": "乡镇", "county": "县级"}
packs = shipped_packs


def today() -> dt.date:
    return timezone.localdate()


def _p(chain, name, when):
    try:
        return chain.lookup(name, when).value
    except PolicyError as exc:
        raise FupinError(exc.message) from None


def may_act(user: User, instance: Instance) -> bool:
    step = instance.current
    if step is None or user.role not in TIER_ROLES[_tier(instance, step)]:
        return False
    return access.in_scope(user, instance.household.village_id)


def _tier(instance: Instance, step: dict) -> str:
    # an application made through the app is accepted by the township (within 2 working days)
    if instance.channel == "app" and instance.step == 0 and step.get("app_due_working_days"):
        return "township"
    return step["tier"]


# ---- consistency checks ("两该两不该") and eligibility -------------------------------------------

def check(kind: str, household: Household, when: dt.date) -> tuple[list[str], list[str]]:
    """(flags an officer may overrule with a recorded reason, hard refusals)."""
    chain = packs().for_region(household.village_id)
    definition = _p(chain, f"workflow.{kind}", when)
    flags, refusals = [], []
    members = list(household.persons.filter(alive=True))
    for name in definition.get("checks", []):
        if name == "exit_eligibility":
            flags += exit_eligibility(household, when)["failures"]
        elif name == "exclusions":
            excluded = set(_p(chain, "workflow.exclusions", when))
            for m in ExclusionMatch.objects.filter(person__in=members, kind__in=excluded).select_related("person"):
                flags.append(f"{m.person.name}（{idcard.mask(m.person.id_number)}）经{m.source}比对属于不得纳入人员（{m.kind}）")
        elif name == "labour_capacity":
            if not any(p.labour in (Labour.ORDINARY, Labour.SKILLED) for p in members):
                refusals.append("该户无劳动能力，不标注风险消除，继续跟踪帮扶")
        elif name == "large_medical_payment":
            line = _p(chain, "workflow.large_medical_payment", when)
            from fupin.health.models import Claim
            since = when - dt.timedelta(days=365)
            for p in members:
                paid = Claim.objects.filter(person=p, status="settled", discharge_date__gte=since) \
                    .aggregate(s=Sum("patient"))["s"] or 0
                if paid > line:
                    flags.append(f"{p.name} 近12个月医疗自付 {paid / 100:.2f} 元，超过 {line / 100:.2f} 元，大额刚性支出尚未解决")
        elif name == "guarantees":
            flags += _guarantee_failures(household)
        elif name == "no_members":
            if members:
                refusals.append(f"该户还有 {len(members)} 名在世成员，不能注销；注销须全部成员死亡或迁出")
    return flags, refusals


def _guarantee_failures(household: Household) -> list[str]:
    from fupin.registry.choices import GuaranteeItem

    latest = {}
    for g in household.guarantees.order_by("item", "-checked_on"):
        latest.setdefault(g.item, g)
    out = []
    for item, label in GuaranteeItem.choices:
        g = latest.get(item)
        if g is None:
            out.append(f"{label}：没有核查记录")
        elif not g.met:
            out.append(f"{label}：{g.checked_on} 核查未达标")
    return out


def exit_eligibility(household: Household, when: dt.date) -> dict:
    """Computed, not typed: per-capita net income against the line in force, the three
    guarantees and water, and how old the income evidence is."""
    chain = packs().for_region(household.village_id)
    income = household.incomes.order_by("-year").first()
    failures = []
    line = None
    if income is None:
        failures.append("没有收入记录，不能判断是否“一超过”")
    else:
        line = _p(chain, "workflow.exit.income_line", dt.date(income.year, 12, 31))
        if income.per_capita <= line:
            failures.append(f"{income.year}年人均纯收入 {income.per_capita / 100:.2f} 元，未超过当年标准 {line / 100:.2f} 元")
        months = _p(chain, "workflow.exit.evidence_max_months", when)
        age = (when.year - income.recorded_on.year) * 12 + when.month - income.recorded_on.month
        if age > months:
            failures.append(f"收入证据采集于 {income.recorded_on}，已超过 {months} 个月，请重新入户核实")
    failures += _guarantee_failures(household)
    return {"eligible": not failures, "failures": failures, "income": income, "line": line}


# ---- starting and acting ------------------------------------------------------------------------

def require_may_start(actor: User, what: str = "发起流程") -> None:
    """Village, township and county officers start workflows (and resubmit those sent back);
    others are refused, audited before any transaction opens."""
    if actor.role not in TIER_ROLES["village"] | TIER_ROLES["township"] | TIER_ROLES["county"]:
        from fupin.core.models import AuditResult
        audit.record(actor, AuditAction.DENIED, object_type="capability", object_id="workflow_start",
                     result=AuditResult.DENIED, summary=what)
        raise AccessDenied(f"您的角色不能{what}")


@transaction.atomic
def start(*, actor: User, household: Household, kind: str, comment: str = "", channel: str = "",
          monitored_type: str = "", evidence: list | None = None) -> Instance:
    if kind not in Kind.values:
        raise InvalidInput({"流程": f"未知的流程 {kind}"})
    require_may_start(actor)
    household = access.access_household(actor, household.pk, for_update=True)
    when = today()
    chain = packs().for_region(household.village_id)
    definition = _p(chain, f"workflow.{kind}", when)
    if household.status not in definition.get("start_statuses", []):
        raise FupinError(f"户 {household.number} 当前为“{household.get_status_display()}”，不能发起{definition['label']}")
    if kind == Kind.MONITORING:
        errors = {}
        for field, value, allowed, choices in (("申请渠道", channel, definition["channels"], Channel),
                                               ("监测类型", monitored_type, definition["types"], MonitoredType)):
            if value not in allowed:
                names = "、".join(label for _, label in labelled(choices, allowed))
                errors[field] = f"请选择（{names}）" if not value else f"应为 {names} 之一"
        if errors:
            raise InvalidInput(errors)
    flags, refusals = check(kind, household, when)
    if refusals:
        raise FupinError("；".join(refusals))
    steps = definition["steps"]
    first_due = steps[0].get("app_due_working_days") if channel == "app" else None
    try:
        with transaction.atomic():
            inst = Instance.objects.create(
                household=household, kind=kind, definition=definition, pack=chain.key, channel=channel,
                monitored_type=monitored_type, started_by=actor,
                step_due=workdays.add_working_days(when, first_due or steps[0]["due_working_days"]),
                deadline=workdays.add_working_days(when, definition["total_working_days"]) if definition.get("total_working_days") else None)
    except IntegrityError:
        raise FupinError(f"户 {household.number} 已有一个办理中的流程，请先办结") from None
    Action.objects.create(instance=inst, step=0, step_key="start", decision="start", actor=actor, comment=comment,
                          evidence=evidence or [])
    audit.record(actor, AuditAction.CREATE, object_type="workflow", object_id=inst.pk, household_id=household.pk,
                 summary=f"发起{definition['label']}" + (f"（{dict(labelled(Channel, [channel]))[channel]}）" if channel else ""))
    return inst


def _blocking_notice(inst: Instance, when: dt.date) -> str | None:
    notice = inst.notices.order_by("-id").first()
    if notice is None:
        return None
    if when <= notice.end:
        return f"公示期至 {notice.end} 结束，公示期满后方可进行下一步"
    open_objections = notice.objections.filter(answered_at__isnull=True).count()
    if open_objections:
        return f"公示期间收到的 {open_objections} 条异议尚未答复，全部答复后方可进行下一步"
    return None


def _notice_content(household: Household, label: str) -> list[dict]:
    head = household.persons.filter(relation="head", alive=True).first()
    # Public-notice rules: name, village, reason — never an ID number (not even masked) or a birth date.
    return [{"name": head.name if head else "", "village": household.village.name,
             "reason": household.get_main_cause_display(), "matter": label}]


@transaction.atomic
def act(*, actor: User, instance_id: int, step_key: str, decision: str, comment: str = "",
        verifiers: list | None = None, evidence: list | None = None, override_reason: str = "") -> Instance:
    """Approve or reject the current step. Two officers acting at once produce one decision:
    the instance row is locked and the step key must still be the current one."""
    inst = Instance.objects.select_for_update().filter(pk=instance_id).first()
    if inst is None or not access.in_scope(actor, inst.household.village_id):
        raise NotFound("找不到该流程，或不在您的管辖范围内")
    step = inst.current
    if step is None:
        raise FupinError(f"该流程{inst.get_state_display()}，不能再办理")
    if step["key"] != step_key:
        done = inst.actions.filter(step_key=step_key).last()
        who = f"已由 {done.actor.get_full_name() or done.actor.username} 于 {timezone.localtime(done.at):%m-%d %H:%M} 办理" if done else "不是当前步骤"
        raise FupinError(f"“{step_key}”{who}；当前步骤为“{step['label']}”")
    tier = _tier(inst, step)
    if actor.role not in TIER_ROLES[tier]:
        raise FupinError(f"“{step['label']}”须由{TIER_LABEL[tier]}办理；前一级未完成前，上一级不能办理")
    when = today()
    if decision == "reject":
        if not comment.strip():
            raise InvalidInput({"退回理由": "退回时必须写明理由"})
        inst.state = State.REJECTED
        inst.save(update_fields=["state"])
        Action.objects.create(instance=inst, step=inst.step, step_key=step_key, decision="reject", actor=actor,
                              comment=comment, evidence=evidence or [])
        audit.record(actor, AuditAction.UPDATE, object_type="workflow", object_id=inst.pk, household_id=inst.household_id,
                     summary=f"{inst.definition['label']}：{step['label']} 退回（{comment}）")
        return inst
    if decision != "approve":
        raise InvalidInput({"决定": "应为通过或退回"})
    blocked = _blocking_notice(inst, when)
    if blocked:
        raise FupinError(blocked)
    if len(set(verifiers or [])) < step.get("min_verifiers", 0):
        raise FupinError(f"“{step['label']}”须至少 {step['min_verifiers']} 人核实，请填写核实人")
    if step.get("evidence_required") and not evidence:
        raise FupinError(f"“{step['label']}”须上传佐证材料（如签字的认可书扫描件）")
    last = inst.step == len(inst.definition["steps"]) - 1
    if last:
        flags, refusals = check(inst.kind, inst.household, when)
        if refusals:
            raise FupinError("；".join(refusals))
        if flags and not override_reason.strip():
            raise FupinError("不符合以下条件：" + "；".join(flags) + "。如确需继续办理，须填写理由")
        if flags:
            Action.objects.create(instance=inst, step=inst.step, step_key=step_key, decision="override", actor=actor,
                                  comment=f"{override_reason}（计算结果：{'；'.join(flags)}）")
    Action.objects.create(instance=inst, step=inst.step, step_key=step_key, decision="approve", actor=actor,
                          comment=comment, verifiers=verifiers or [], evidence=evidence or [])
    if step.get("notice_days"):
        Notice.objects.create(instance=inst, step_key=step_key, title=f"{inst.household.village.name}{inst.definition['label']}"
                              f"{'公告' if last else '公示'}（{step['label']}）", start=when,
                              end=when + dt.timedelta(days=step["notice_days"] - 1),
                              content=_notice_content(inst.household, inst.definition["label"]))
    if last:
        inst.state, inst.completed_at = State.COMPLETED, timezone.now()
        household = Household.objects.select_for_update().get(pk=inst.household_id)
        before = household.status
        household.status, household.status_since = inst.definition["final_status"], when
        household.save(update_fields=["status", "status_since", "updated_at"])
        audit.record(actor, AuditAction.UPDATE, object_type="household", object_id=household.pk, household_id=household.pk,
                     summary=f"状态变更：{Status(before).label} → {household.get_status_display()}（{inst.definition['label']}）",
                     detail={"fields": {"status": [before, household.status]}, "workflow": inst.pk})
    else:
        inst.step += 1
        nxt = inst.definition["steps"][inst.step]
        start_from = when + dt.timedelta(days=step.get("notice_days", 0))
        inst.step_due = workdays.add_working_days(start_from, nxt["due_working_days"])
    inst.save()
    audit.record(actor, AuditAction.UPDATE, object_type="workflow", object_id=inst.pk, household_id=inst.household_id,
                 summary=f"{inst.definition['label']}：{step['label']} 通过" + (f"（{comment}）" if comment else ""))
    return inst


def resubmit(*, actor: User, instance_id: int, comment: str) -> Instance:
    """A workflow sent back, corrected and put through again from its first step, by a role that
    starts workflows (a read-only role is refused, and the refusal audited)."""
    require_may_start(actor, "重新提交流程")
    return _resubmit(actor, instance_id, comment)


@transaction.atomic
def _resubmit(actor: User, instance_id: int, comment: str) -> Instance:
    inst = Instance.objects.select_for_update().filter(pk=instance_id).first()
    if inst is None or not access.in_scope(actor, inst.household.village_id):
        raise NotFound("找不到该流程")
    if inst.state != State.REJECTED:
        raise FupinError("只有被退回的流程可以修改后重新提交")
    if not comment.strip():
        raise InvalidInput({"修改说明": "请说明修改了什么"})
    inst.state, inst.step = State.IN_PROGRESS, 0
    inst.step_due = workdays.add_working_days(today(), inst.definition["steps"][0]["due_working_days"])
    inst.save(update_fields=["state", "step", "step_due"])
    Action.objects.create(instance=inst, step=0, step_key="resubmit", decision="resubmit", actor=actor, comment=comment)
    audit.record(actor, AuditAction.UPDATE, object_type="workflow", object_id=inst.pk, household_id=inst.household_id,
                 summary=f"{inst.definition['label']}：修改后重新提交（{comment}）")
    return inst


def notice_open(notice: Notice, on: dt.date | None = None) -> bool:
    """A notice is public, and open to objections, during its notice period only."""
    return notice.start <= (on or today()) <= notice.end


def _throttle_anonymous(ip: str | None) -> None:
    """Anonymous objections from one address are limited per hour (settings), so the public page
    cannot be used to flood the village with fake objections. Counted from the audit log."""
    from django.conf import settings

    from fupin.core.models import AuditEvent

    if not ip:
        return
    since = timezone.now() - dt.timedelta(hours=1)
    n = AuditEvent.objects.filter(object_type="objection", action=AuditAction.CREATE, actor__isnull=True, ip=ip,
                                  at__gte=since).count()
    if n >= settings.OBJECTION_IP_MAX_PER_HOUR:
        raise FupinError(f"同一网络地址每小时最多提交 {settings.OBJECTION_IP_MAX_PER_HOUR} 条异议，请稍后再试，"
                         "或到村委会当面提出")


def access_notice(user: User, pk) -> Notice:
    """A notice with its objections (names, texts, answers), for a user who may read the registry
    in the notice's region. The public sees a notice only through its token, while it is open."""
    access.require(user, Cap.READ, what=f"查看公示 {pk}")
    n = Notice.objects.select_related("instance__household").filter(pk=pk).first() if str(pk).isdigit() else None
    if n is None or not access.in_scope(user, n.instance.household.village_id):
        raise NotFound("找不到该公示，或不在您的管辖范围内")
    return n


def notices_for(user: User):
    """The notices of the user's region (READ): the access function for lists of notices."""
    access.require(user, Cap.READ)
    lo, hi = access.scope_range(user)
    return Notice.objects.filter(instance__household__village_id__gte=lo, instance__household__village_id__lte=hi)


def objection_lodge(*, notice: Notice, by_name: str, content: str, via: str, actor: User | None = None,
                    ip: str | None = None) -> Objection:
    """An objection to a notice: from the public (anonymous, limited per address and hour), or
    recorded by a cadre on a resident's behalf (a role that handles workflows; others refused and
    audited, before the transaction opens)."""
    if actor is not None:
        require_may_start(actor, "代为登记异议")
    return _objection_lodge(notice, by_name, content, via, actor, ip)


@transaction.atomic
def _objection_lodge(notice: Notice, by_name: str, content: str, via: str, actor: User | None, ip: str | None) -> Objection:
    if not by_name.strip() or not content.strip():
        raise InvalidInput({"异议": "请填写姓名和异议内容"})
    if not notice_open(notice):
        raise FupinError(f"公示期为 {notice.start} 至 {notice.end}，现在不在公示期内")
    if actor is None:
        _throttle_anonymous(ip)
    o = Objection.objects.create(notice=notice, by_name=by_name.strip()[:40], content=content.strip()[:500], via=via)
    audit.record(actor, AuditAction.CREATE, object_type="objection", object_id=o.pk,
                 household_id=notice.instance.household_id, summary=f"公示异议：{by_name}",
                 actor_name=None if actor else "公众", ip=ip if actor is None else None)
    return o


@transaction.atomic
def objection_answer(*, actor: User, objection_id: int, answer: str) -> Objection:
    o = Objection.objects.select_for_update().select_related("notice__instance__household").filter(pk=objection_id).first()
    if o is None or not access.in_scope(actor, o.notice.instance.household.village_id):
        raise NotFound("找不到该异议")
    if actor.role not in TIER_ROLES["village"] | TIER_ROLES["township"] | TIER_ROLES["county"]:
        raise FupinError("您的角色不能答复异议")
    if not answer.strip():
        raise InvalidInput({"答复": "必须填写"})
    o.answer, o.answered_by, o.answered_at = answer, actor, timezone.now()
    o.save(update_fields=["answer", "answered_by", "answered_at"])
    audit.record(actor, AuditAction.UPDATE, object_type="objection", object_id=o.pk,
                 household_id=o.notice.instance.household_id, summary=f"答复异议：{answer[:60]}")
    return o


def instances_for(user: User):
    """The workflow instances of the user's region: the access function for instances."""
    access.require(user, Cap.READ)
    lo, hi = access.scope_range(user)
    return Instance.objects.filter(household__village_id__gte=lo, household__village_id__lte=hi)


def overdue(user: User, on: dt.date | None = None):
    on = on or today()
    return [i for i in instances_for(user).filter(state=State.IN_PROGRESS).select_related("household__village__parent")
            if (i.step_due and i.step_due < on) or (i.deadline and i.deadline < on)]


def todo(user: User, on: dt.date | None = None) -> dict:
    on = on or today()
    mine = [i for i in instances_for(user).filter(state=State.IN_PROGRESS).select_related("household__village")
            if may_act(user, i)]
    rejected = list(instances_for(user).filter(state=State.REJECTED, started_by=user).select_related("household"))
    lo, hi = access.scope_range(user)
    ending = list(Notice.objects.filter(instance__household__village_id__gte=lo, instance__household__village_id__lte=hi,
                                        end__gte=on, end__lte=on + dt.timedelta(days=2)).select_related("instance__household"))
    objections = list(Objection.objects.filter(notice__instance__household__village_id__gte=lo,
                                               notice__instance__household__village_id__lte=hi,
                                               answered_at__isnull=True).select_related("notice__instance__household"))
    near = [i for i in mine if i.step_due and on <= i.step_due <= on + dt.timedelta(days=3)]
    late = overdue(user, on)
    # what a cadre needs to recognise each item: the head's name, and why a workflow came back
    from fupin.registry.models import Person

    ids = {i.household_id for i in mine + late + rejected} | {o.notice.instance.household_id for o in objections}
    heads = dict(Person.objects.filter(household_id__in=ids, relation="head", alive=True).values_list("household_id", "name"))
    reasons = dict(Action.objects.filter(instance__in=rejected, decision="reject").order_by("at", "pk")
                   .values_list("instance_id", "comment"))   # the latest rejection of each
    for i in mine + late + rejected:
        i.head_name = heads.get(i.household_id, "")
        i.reason = reasons.get(i.pk, "")
    for o in objections:
        o.head_name = heads.get(o.notice.instance.household_id, "")
    return {"mine": mine, "rejected": rejected, "ending": ending, "objections": objections, "near": near,
            "overdue": late}


def reminders(user: User) -> list[tuple[str, str]]:
    """What the home page reminds a user of: steps waiting, overdue, notices ending, objections."""
    if user.role not in TIER_ROLES["village"] | TIER_ROLES["township"] | TIER_ROLES["county"]:
        return []
    t = todo(user)
    out = []
    if t["mine"]:
        out.append((f"{len(t['mine'])} 个流程步骤等待您办理", "/workflows/todo/"))
    if t["overdue"]:
        out.append((f"{len(t['overdue'])} 个流程已逾期", "/workflows/todo/"))
    if t["ending"]:
        out.append((f"{len(t['ending'])} 个公示即将结束", "/workflows/todo/"))
    if t["objections"]:
        out.append((f"{len(t['objections'])} 条异议待答复", "/workflows/todo/"))
    return out
