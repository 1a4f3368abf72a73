"""Counterpart support: plan, deferrals, changes, records, assessment and allowance payment."""
from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone

from fupin.core import access, audit
from fupin.core.errors import FupinError, InvalidInput, NotFound
from fupin.core.models import AuditAction, User
from fupin.core.roles import Cap
from fupin.policy import calendar
from fupin.policy.errors import PolicyError
from fupin.policy.money import parse_yuan, yuan
from fupin.policy.packs import shipped_packs
from fupin.policy.rules import support as rules

from .models import (Activity, Assessment, Deferral, Department, Dispatch, Leave, Member, PlanChange, Sanction,
                     SanctionKind, Staff, UnauthorisedReturn)

def chain_for(hospital):
    return shipped_packs().for_region(hospital.region_id)


def _policy(fn):
    try:
        return fn()
    except PolicyError as exc:
        raise FupinError(exc.message) from None


def _quarter_end(year: int, quarter: int) -> dt.date:
    nxt = dt.date(year + (quarter == 4), 1 if quarter == 4 else 3 * quarter + 1, 1)
    return nxt - dt.timedelta(days=1)


def plan_generate(*, actor: User, hospital, supported, year: int, quarter: int, quarters: int) -> list[Dispatch]:
    """(Re)compute the plan from the given quarter. Dispatches that have started are kept as
    they are (no change of person mid-rotation); later ones are recomputed."""
    access.require(actor, Cap.SUPPORT_MANAGE)
    with transaction.atomic():  # opened after the access check: a refusal's audit row stays
        departments = list(Department.objects.filter(hospital=hospital).order_by("order"))
        if not departments:
            raise FupinError("请先按固定顺序登记科室")
        today = timezone.localdate()
        started = Dispatch.objects.filter(department__hospital=hospital, handover__lte=today)
        Dispatch.objects.filter(department__hospital=hospital, handover__gt=today).delete()
        deferrals = {(d.cycle, d.department.name): d.decision for d in Deferral.objects.filter(department__hospital=hospital)}
        staff = {d.name: [s.name for s in d.staff.all()] for d in departments}
        priority = {s.name for s in Staff.objects.filter(department__hospital=hospital, priority=True)}
        served = {}
        for m in Member.objects.filter(dispatch__in=started).select_related("staff"):
            served[m.staff.name] = served.get(m.staff.name, 0) + 1
        batches = _policy(lambda: rules.plan(chain_for(hospital), [d.name for d in departments], year, quarter, quarters,
                                             deferrals=deferrals, staff=staff, priority=priority, served=served))
        by_name = {d.name: d for d in departments}
        created = []
        for b in batches:
            if started.filter(year=b.year, quarter=b.quarter).exists():
                continue
            d = Dispatch.objects.create(department=by_name[b.department], supported=supported, year=b.year,
                                        quarter=b.quarter, handover=b.handover, handover_note=b.handover_note,
                                        end=_quarter_end(b.year, b.quarter), cycle=b.cycle)
            for name in b.staff:
                Member.objects.create(dispatch=d, staff=Staff.objects.get(department=by_name[b.department], name=name))
            created.append(d)
        audit.record(actor, AuditAction.UPDATE, object_type="support_plan", object_id=hospital.code,
                     summary=f"生成对口支援轮派计划：{year}年第{quarter}季度起 {quarters} 批")
        return created


def deferral_decide(*, actor: User, department: Department, cycle: int, decision: str, reason: str) -> Deferral:
    access.require(actor, Cap.SUPPORT_MANAGE)
    with transaction.atomic():  # opened after the access check: a refusal's audit row stays
        if decision not in ("auto", "last"):
            raise InvalidInput({"处理方式": "应为 auto（自动顺延）或 last（调到最后一批）"})
        if not reason.strip():
            raise InvalidInput({"延期原因": "必须填写（如培训、休假）"})
        try:
            with transaction.atomic():
                d = Deferral.objects.create(department=department, cycle=cycle, decision=decision, reason=reason, decided_by=actor)
        except IntegrityError:
            raise FupinError(f"{department.name}在本轮（第{cycle + 1}轮）已延期过一次；全部科室轮转完之前每个科室只能延期一次") from None
        audit.record(actor, AuditAction.CREATE, object_type="deferral", object_id=d.pk,
                     summary=f"{department.name}第{cycle + 1}轮延期：{d.get_decision_display()}（{reason}）")
        return d


def member_change(*, actor: User, dispatch: Dispatch, replaced: Staff, replacement: Staff, accident: bool,
                  description: str, when: dt.date | None = None) -> PlanChange | None:
    """Change a person. Once the rotation has started, only a change caused by an accident is
    allowed, and it goes into that month's quality-control bulletin."""
    access.require(actor, Cap.SUPPORT_MANAGE)
    with transaction.atomic():  # opened after the access check: a refusal's audit row stays
        when = when or timezone.localdate()
        member = Member.objects.filter(dispatch=dispatch, staff=replaced).first()
        if member is None:
            raise NotFound(f"{replaced.name} 不在这一批派驻人员中")
        if replacement.department_id != dispatch.department_id:
            raise InvalidInput({"替换人员": "应为同一科室的人员"})
        if dispatch.handover <= when and not accident:
            raise FupinError("轮转期间不得中途换人；如因意外情况须更换，请按“意外变更”登记，并在当月质控通报中公布")
        if accident and not description.strip():
            raise InvalidInput({"事由": "意外变更须写明事由"})
        member.staff = replacement
        member.save(update_fields=["staff"])
        change = None
        if dispatch.handover <= when:
            change = PlanChange.objects.create(dispatch=dispatch, month=when.strftime("%Y-%m"), replaced=replaced,
                                               replacement=replacement, description=description, recorded_by=actor)
        audit.record(actor, AuditAction.UPDATE, object_type="dispatch", object_id=dispatch.pk,
                     summary=f"派驻人员变更：{replaced.name} → {replacement.name}{'（意外）' if accident else ''}")
        return change


def access_member(user: User, member_id: int) -> Member:
    member = Member.objects.select_related("dispatch__department__hospital", "dispatch__supported", "staff").filter(
        pk=member_id).first()
    if member is None:
        raise NotFound("找不到该派驻记录")
    if access.may(user, Cap.SUPPORT_MANAGE) and access.in_scope(user, member.dispatch.department.hospital.region_id):
        return member
    if access.may(user, Cap.SUPPORT_RECORD) and member.staff.user_id == user.pk:
        return member
    raise NotFound("找不到该派驻记录，或不是您本人的派驻")


def activity_record(*, actor: User, member: Member, kind: str, date: dt.date, note: str = "") -> Activity:
    access.require(actor, Cap.SUPPORT_RECORD)
    with transaction.atomic():  # opened after the access check: a refusal's audit row stays
        if kind not in dict(Activity.KINDS):
            raise InvalidInput({"类型": "应为授课、查房或出勤"})
        d = member.dispatch
        if not d.handover <= date <= d.end:
            raise InvalidInput({"日期": f"{date} 不在派驻期间 {d.handover}～{d.end} 内"})
        if date > timezone.localdate():
            raise InvalidInput({"日期": "不能登记未来的日期"})
        if kind == "attendance" and not _policy(lambda: calendar.is_working_day(date)):
            raise InvalidInput({"日期": f"{date} 不是工作日"})
        try:
            with transaction.atomic():
                a = Activity.objects.create(member=member, kind=kind, date=date, note=note)
        except IntegrityError:
            raise FupinError(f"{date} 的{dict(Activity.KINDS)[kind]}已登记过") from None
        return a


def leave_request(*, actor: User, member: Member, start: dt.date, days: int, head_approved: bool,
                  explanation: str = "", informed: bool = False) -> Leave:
    """Under the pack's threshold (3 days): the supported hospital's head approves and medical
    affairs is told. At or above it: also a written explanation to the director of medical affairs."""
    access.require(actor, Cap.SUPPORT_RECORD)
    with transaction.atomic():  # opened after the access check: a refusal's audit row stays
        if days <= 0:
            raise InvalidInput({"天数": "应大于0"})
        if not head_approved:
            raise FupinError("请假须先经受援医院院长批准")
        written = _policy(lambda: chain_for(member.dispatch.department.hospital)
                          .lookup("support.leave.written_explanation_days", start).value)
        if days >= written and not explanation.strip():
            raise FupinError(f"请假{written}天及以上，须向医务部主任作出书面说明")
        if days < written and not informed:
            raise FupinError(f"请假{written}天以内，须电话告知医务部并由医务部登记")
        leave = Leave.objects.create(member=member, start=start, days=days, head_approved=True, explanation=explanation,
                                     informed_medical_affairs=informed)
        audit.record(actor, AuditAction.CREATE, object_type="leave", object_id=leave.pk,
                     summary=f"{member.staff.name} 请假 {days} 天（{start} 起）")
        return leave


def assessment_record(member: Member) -> dict:
    """The rotation record for the rules, read from what was recorded."""
    d = member.dispatch
    acts = {k: sorted(a.date.isoformat() for a in member.activities.all() if a.kind == k)
            for k in ("teaching", "round", "attendance")}
    working = [x for x in (d.handover + dt.timedelta(days=i) for i in range((d.end - d.handover).days + 1))
               if _policy(lambda x=x: calendar.is_working_day(x))]
    return {"start": d.handover.isoformat(), "end": d.end.isoformat(), "teaching_sessions": acts["teaching"],
            "ward_rounds": acts["round"], "days_present": acts["attendance"],
            "working_days": [x.isoformat() for x in working],
            "unauthorised_return_days": sum(u.days for u in member.unauthorised.all())}


def assess(*, actor: User, member: Member) -> Assessment:
    access.require(actor, Cap.SUPPORT_MANAGE)
    with transaction.atomic():  # opened after the access check: a refusal's audit row stays
        existing = Assessment.objects.filter(member=member).first()
        if existing and existing.approved_by_id:
            raise FupinError("考核已审核，不能重算")
        result = _policy(lambda: rules.assess(chain_for(member.dispatch.department.hospital), assessment_record(member)))
        a, _ = Assessment.objects.update_or_create(member=member, defaults={"result": result})
        audit.record(actor, AuditAction.UPDATE, object_type="assessment", object_id=a.pk,
                     summary=f"{member.staff.name} 考核：{result['failed_items']} 项不合格，应发补助 {result['allowance_payable']} 元")
        return a


def approve(*, actor: User, assessment: Assessment, budget) -> Assessment:
    """Medical affairs reviews the form and the report, then approves: the allowance is paid
    from a budget line of the user's region. Access is checked before the transaction opens."""
    from fupin.funds import services as funds

    access.require(actor, Cap.APPROVE_ALLOWANCE, what=f"审批派驻补助（考核 {assessment.pk}）")
    hospital = assessment.member.dispatch.department.hospital
    if not access.in_scope(actor, hospital.region_id):
        raise NotFound("找不到该考核，或不在您的管辖范围内")
    if budget is None or budget.kind != "budget" or budget.region_id is None \
            or not access.in_scope(actor, budget.region_id):
        raise NotFound("找不到所选预算科目，或该科目不属于您的管辖区划；请选择本辖区的派驻补助预算科目")
    return _approve(actor, assessment.pk, budget, funds)


@transaction.atomic
def _approve(actor: User, assessment_id: int, budget, funds) -> Assessment:
    a = Assessment.objects.select_for_update().select_related("member__staff", "member__dispatch").get(pk=assessment_id)
    if a.approved_by_id:
        raise FupinError("考核已审核")
    if not a.report_received:
        raise FupinError("尚未收到本人的工作总结，不能审核")
    staff = a.member.staff
    amount = _policy(lambda: parse_yuan(a.result["allowance_payable"], "应发补助"))  # the one money parser
    if amount:
        d = a.member.dispatch
        funds.payments_post(actor=actor, budget=budget, date=timezone.localdate(), decision_type="support_assessment",
                            decision_id=str(a.pk), payments=[funds.Payment(funds.payee_for_staff(staff), amount,
                                                                           "support.allowance", f"{d.year}Q{d.quarter}")])
    _sanctions_from(actor, a, budget, funds)
    a.approved_by, a.approved_at = actor, timezone.now()
    a.save(update_fields=["approved_by", "approved_at"])
    audit.record(actor, AuditAction.UPDATE, object_type="assessment", object_id=a.pk,
                 summary=f"审核通过 {staff.name} 的考核，发放补助 {yuan(amount)} 元")
    return a


# ---- fines and rewards (下乡考核及奖惩) -------------------------------------------------------------
# Amounts come from the assessment (pack `support.*`, each with its source); each is one Sanction
# row with its reason, and money ones are posted to the ledger against the allowance's budget line.

def _source(result: dict, *names: str) -> str:
    params = result.get("parameters", {})
    return "；".join(dict.fromkeys(params[n]["source"] for n in names if n in params))[:300]


def _sanction(actor: User, *, department, kind: str, amount: int, reason: str, source: str, date: dt.date,
              staff=None, member=None, dispatch=None, txn=None) -> Sanction:
    s = Sanction.objects.create(department=department, staff=staff, member=member, dispatch=dispatch, kind=kind,
                                amount=amount, reason=reason[:300], source=source[:300], date=date, transaction=txn,
                                recorded_by=actor)
    who = staff.name if staff else department.name
    audit.record(actor, AuditAction.CREATE, object_type="support_sanction", object_id=s.pk,
                 summary=f"{SanctionKind(kind).label}：{who} {yuan(amount)} 元（{reason}）")
    return s


def _sanctions_from(actor: User, a: Assessment, budget, funds) -> list[Sanction]:
    """The fines and the reward an approved assessment carries (inside the approval's transaction)."""
    r, member = a.result, a.member
    staff, d = member.staff, member.dispatch
    dept, period, today = d.department, f"{d.year}Q{d.quarter}", timezone.localdate()
    decision = f"assessment-{a.pk}"
    money = lambda key: _policy(lambda: parse_yuan(key, "金额"))  # noqa: E731  the one money parser
    out = []
    if money(r["deduction"]):
        failed = "、".join(i["label"] for i in r["items"] if not i["passed"])
        out.append(_sanction(actor, department=dept, staff=staff, member=member, kind=SanctionKind.DEDUCTION,
                             amount=money(r["deduction"]), date=today,
                             reason=f"{failed} {r['failed_items']} 项不合格，扣发 {r['deduction_months']} 个月下乡补助",
                             source=_source(r, f"support.deduct_months.{r['failed_items']}")))
    days = r["fines"]["unauthorised_days"]
    if days:
        rate = r["parameters"]["support.unauthorised_fine_per_day"]["value"]
        kinds = "、".join(sorted({u.get_kind_display() for u in member.unauthorised.all()}))
        for payer, who_staff, kind, whom in ((funds.payee_for_staff(staff), staff, SanctionKind.PERSON_FINE, "个人"),
                                             (funds.department_payee(dept), None, SanctionKind.DEPT_FINE, "科室")):
            amount = days * money(rate)
            txn = funds.fine_post(actor=actor, budget=budget, payer=payer, amount=amount, date=today,
                                  decision_type="support_sanction", decision_id=decision,
                                  entitlement=f"support.fine.{kind}", period=period)
            out.append(_sanction(actor, department=dept, staff=who_staff, member=member, kind=kind, amount=amount,
                                 date=today, txn=txn, source=_source(r, "support.unauthorised_fine_per_day"),
                                 reason=f"{staff.name}派驻期间{kinds} {days} 个工作日，对{whom}每工作日罚 {rate} 元"))
    dept_fine = money(r["fines"]["department_assessment_fine"])
    if dept_fine:
        txn = funds.fine_post(actor=actor, budget=budget, payer=funds.department_payee(dept), amount=dept_fine, date=today,
                              decision_type="support_sanction", decision_id=decision,
                              entitlement="support.fine.dept_assessment", period=period)
        out.append(_sanction(actor, department=dept, member=member, kind=SanctionKind.DEPT_FINE, amount=dept_fine,
                             date=today, txn=txn, source=_source(r, "support.department_fine", "support.department_fine_from"),
                             reason=f"{staff.name}考核 {r['failed_items']} 项均不合格，对所在科室罚款，本人重新下乡"))
    reward = money(r["department_reward"])
    if reward:
        txn = funds.payments_post(actor=actor, budget=budget, date=today, decision_type="support_sanction",
                                  decision_id=decision, payments=[funds.Payment(funds.department_payee(dept), reward,
                                                                                "support.department_reward", period)])
        out.append(_sanction(actor, department=dept, staff=staff, member=member, kind=SanctionKind.DEPT_REWARD,
                             amount=reward, date=today, txn=txn, source=_source(r, "support.department_reward_per_person"),
                             reason=f"派出 {staff.name} 下乡（{d.year}年第{d.quarter}季度），奖励科室，与年终绩效挂钩"))
    return out


def unauthorised_record(*, actor: User, member: Member, kind: str, start: dt.date, days: int, note: str = "") -> UnauthorisedReturn:
    """A recall by the department or a return without leave (擅自调回、无故回科), in working days:
    the assessment fines the person and the department per day."""
    access.require(actor, Cap.SUPPORT_MANAGE, what="登记擅自召回或无故返回")
    if kind not in ("recall", "return"):
        raise InvalidInput({"类别": "应为 科室擅自召回 或 本人无故返回"})
    if days <= 0:
        raise InvalidInput({"工作日数": "须大于0"})
    if not (member.dispatch.handover <= start <= member.dispatch.end):
        raise InvalidInput({"开始日期": f"应在派驻期内（{member.dispatch.handover} 至 {member.dispatch.end}）"})
    if Assessment.objects.filter(member=member, approved_by__isnull=False).exists():
        raise FupinError("考核已审核，不能再登记")
    with transaction.atomic():
        u = UnauthorisedReturn.objects.create(member=member, kind=kind, start=start, days=days, note=note.strip()[:200],
                                              recorded_by=actor)
        audit.record(actor, AuditAction.CREATE, object_type="unauthorised_return", object_id=u.pk,
                     summary=f"{member.staff.name} {u.get_kind_display()} {days} 个工作日（{start} 起）")
    return u


def refusal_record(*, actor: User, dispatch: Dispatch, reason: str, budget, date: dt.date | None = None) -> Sanction:
    """A department refusing to send its people for a batch without a valid reason (无特殊原因拒不派遣):
    recorded with the reason given, fined by the pack's amount into the chosen budget line."""
    from fupin.funds import services as funds

    access.require(actor, Cap.APPROVE_ALLOWANCE, what="登记科室拒派及罚款")
    dept = dispatch.department
    if not access.in_scope(actor, dept.hospital.region_id):
        raise NotFound("找不到该派驻批次，或不在您的管辖范围内")
    if budget is None or budget.kind != "budget" or budget.region_id is None or not access.in_scope(actor, budget.region_id):
        raise NotFound("找不到所选预算科目，或该科目不属于您的管辖区划")
    if not reason.strip():
        raise InvalidInput({"拒派情况": "须写明科室拒派的情况和所称理由"})
    date = date or timezone.localdate()
    value = _policy(lambda: chain_for(dept.hospital).lookup("support.refusal_fine", dispatch.handover))
    amount = int(value.value)   # a `yuan` pack value is held in fen
    with transaction.atomic():
        if Sanction.objects.filter(dispatch=dispatch, kind=SanctionKind.REFUSAL_FINE).exists():
            raise FupinError(f"{dept.name} 这一批的拒派已登记")
        txn = funds.fine_post(actor=actor, budget=budget, payer=funds.department_payee(dept), amount=amount, date=date,
                              decision_type="support_sanction", decision_id=f"refusal-{dispatch.pk}",
                              entitlement="support.fine.refusal", period=f"{dispatch.year}Q{dispatch.quarter}")
        return _sanction(actor, department=dept, dispatch=dispatch, kind=SanctionKind.REFUSAL_FINE, amount=amount,
                         date=date, txn=txn, source=value.source,
                         reason=f"{dispatch.year}年第{dispatch.quarter}季度无特殊原因拒不派遣下乡人员：{reason.strip()}")
