"""The student aid procedure (seeds 003, 004): application → the pack's reviews (class, school,
township, county) → public notice at the school → decision → payment list. In-kind aid
(clothes, books, meals) goes the same way with its value. The steps and the notice's length are
pack data (`education.aid_procedure`); a step's tier says who may do it."""
from __future__ import annotations

import datetime as dt
import io

from django.db import IntegrityError, transaction
from django.utils import timezone

from fupin.core import access, audit
from fupin.core.errors import AccessDenied, FupinError, InvalidInput, NotFound
from fupin.core.models import AuditAction, AuditResult, User
from fupin.core.money import fen_to_yuan_str
from fupin.core.roles import Cap
from fupin.registry.models import Person

from .college import _p
from .models import AidApplication, AidReview, AidState, School, SchoolMeasure, SchoolMeasureKind

# who may do a step of each tier: the school aid office, a township office, the county office
TIER_CAP = {"school": Cap.EDU_MANAGE, "township": Cap.WRITE, "county": Cap.POST_RUN}
TIER_LEVEL = {"school": None, "township": 4, "county": 3}


def procedure(application: AidApplication) -> dict:
    return _p(application.school.region_id, "education.aid_procedure", dt.date(application.year, 9, 1))


def aid_apply(*, actor: User, person: Person, school: School, year: int, item: str, amount: int,
              in_kind: str = "") -> AidApplication:
    access.require(actor, Cap.EDU_MANAGE)
    person = access.access_person(actor, person.pk)
    errors = {}
    if not item.strip():
        errors["资助项目"] = "必须填写"
    if amount <= 0:
        errors["金额"] = "须大于0（实物资助填写其价值）"
    if errors:
        raise InvalidInput(errors)
    if not access.in_scope(actor, school.region_id):
        raise NotFound(f"找不到学校 {school.name}，或不在您的管辖范围内")
    try:
        with transaction.atomic():
            a = AidApplication.objects.create(person=person, school=school, year=year, item=item.strip()[:60],
                                              amount=amount, in_kind=in_kind.strip()[:60], created_by=actor)
            audit.record(actor, AuditAction.CREATE, object_type="aid_application", object_id=a.pk,
                         household_id=person.household_id,
                         summary=f"学生资助申请：{person.name} {year} 学年{a.item} {fen_to_yuan_str(amount)} 元"
                                 + (f"（实物：{a.in_kind}）" if a.in_kind else ""))
    except IntegrityError:
        raise FupinError(f"{person.name} {year} 学年已申请“{item.strip()}”") from None
    return a


def _require_tier(actor: User, tier: str, label: str) -> None:
    access.require(actor, TIER_CAP[tier], what=f"学生资助{label}")
    level = TIER_LEVEL[tier]
    if level is not None and (actor.region is None or actor.region.level != level):
        message = f"“{label}”由{'乡镇' if level == 4 else '县级'}工作人员办理"
        audit.record(actor, AuditAction.DENIED, object_type="capability", object_id=TIER_CAP[tier],
                     result=AuditResult.DENIED, summary=message)
        raise AccessDenied(message)


def aid_review(*, actor: User, application: AidApplication, approved: bool, note: str = "",
               on: dt.date | None = None) -> AidApplication:
    """The next step of the procedure, by whoever its tier names. A refusal needs its reason and
    ends the application; the last approval opens the public notice at the school."""
    if application.state != AidState.REVIEWING:
        raise FupinError(f"该申请{application.get_state_display()}，不在审核中")
    proc = procedure(application)
    step = proc["steps"][application.step]
    _require_tier(actor, step["tier"], step["label"])
    if not approved and not note.strip():
        raise InvalidInput({"意见": "不通过须写明原因"})
    on = on or timezone.localdate()
    with transaction.atomic():
        locked = AidApplication.objects.select_for_update().get(pk=application.pk)
        if (locked.state, locked.step) != (AidState.REVIEWING, application.step):
            raise FupinError("该申请已由他人办理，请刷新后再看")
        AidReview.objects.create(application=locked, step=step["key"], label=step["label"], approved=approved,
                                 note=note.strip()[:200], reviewer=actor)
        fields = {"step": locked.step + 1}
        if not approved:
            fields["state"] = AidState.REJECTED
        elif locked.step + 1 == len(proc["steps"]):
            fields.update(state=AidState.NOTICE, notice_from=on,
                          notice_until=on + dt.timedelta(days=int(proc["notice_days"])))
        AidApplication.objects.filter(pk=locked.pk).update(**fields)
        audit.record(actor, AuditAction.UPDATE, object_type="aid_application", object_id=locked.pk,
                     household_id=locked.person.household_id,
                     summary=f"学生资助{step['label']}：{'通过' if approved else '不通过'}" + (f"（{note.strip()}）" if note.strip() else ""))
    application.refresh_from_db()
    return application


def aid_decide(*, actor: User, application: AidApplication, on: dt.date) -> AidApplication:
    """After the notice has run its days, the county decides: the student goes on the payment list."""
    access.require(actor, Cap.POST_RUN, what="学生资助决定")
    if application.state != AidState.NOTICE:
        raise FupinError(f"该申请{application.get_state_display()}，只有公示中的申请可以决定")
    if on <= application.notice_until:
        raise FupinError(f"公示期至 {application.notice_until}，期满后（{application.notice_until + dt.timedelta(days=1)} 起）才能决定")
    with transaction.atomic():
        AidApplication.objects.filter(pk=application.pk, state=AidState.NOTICE).update(state=AidState.APPROVED,
                                                                                       decided_on=on)
        audit.record(actor, AuditAction.UPDATE, object_type="aid_application", object_id=application.pk,
                     household_id=application.person.household_id, summary=f"学生资助批准：{application.person.name}")
    application.refresh_from_db()
    return application


def applications_for(user: User):
    access.require(user, Cap.READ)
    lo, hi = access.scope_range(user)
    return AidApplication.objects.filter(school__region_id__gte=lo[:6] + "000000", school__region_id__lte=hi,
                                         person__household__village_id__gte=lo, person__household__village_id__lte=hi)


def access_application(user: User, pk: int) -> AidApplication:
    a = applications_for(user).select_related("person__household", "school").filter(pk=pk).first()
    if a is None:
        raise NotFound(f"找不到资助申请（编号 {pk}），或不在您的管辖范围内")
    return a


def notice(user: User, school: School, year: int) -> list[AidApplication]:
    """The school's public notice: names, item and amount only (no ID, ADR 0010)."""
    return list(applications_for(user).filter(school=school, year=year, state__in=[AidState.NOTICE, AidState.APPROVED])
                .select_related("person").order_by("person__name"))


def payment_list(user: User, school: School, year: int) -> tuple[bytes, int]:
    """The approved students of a school and year as the payment list (Excel)."""
    from openpyxl import Workbook

    from fupin.core import idcard
    from fupin.exchange.excel import safe

    access.require(user, Cap.EXPORT)
    full = access.may(user, Cap.REVEAL_ID)
    rows = list(applications_for(user).filter(school=school, year=year, state=AidState.APPROVED)
                .select_related("person__household").order_by("person__name"))
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("发放名单")
    ws.append(["学校", "学年", "姓名", "身份证号", "户编号", "资助项目", "实物", "金额（元）", "批准日期"])
    for a in rows:
        ws.append([safe(x) for x in (school.name, a.year, a.person.name,
                                      a.person.id_number if full else idcard.mask(a.person.id_number),
                                      a.person.household.number, a.item, a.in_kind, fen_to_yuan_str(a.amount),
                                      a.decided_on.isoformat())])
    out = io.BytesIO()
    wb.save(out)
    audit.export(user, what=f"导出 {school.name} {year} 学年学生资助发放名单", object_type="aid_payment_list",
                 object_id=school.pk, persons=len(rows), full_ids=full)
    return out.getvalue(), len(rows)


# ---- school-level aid measures (学校层面的资助措施) ---------------------------------------------------

def measure_record(*, actor: User, school: School, year: int, kind: str, description: str, students: int,
                   value: int, date: dt.date) -> SchoolMeasure:
    """A school's own measure for its poor students: a donation drive, fees waived, goods, meals."""
    access.require(actor, Cap.EDU_MANAGE, what="登记学校资助措施")
    if not access.in_scope(actor, school.region_id) and not access.in_scope(actor, school.region_id[:6] + "000000"):
        raise NotFound(f"找不到学校 {school.name}，或不在您的管辖范围内")
    errors = {}
    if kind not in SchoolMeasureKind.values:
        errors["措施"] = f"应为 {'、'.join(SchoolMeasureKind.labels)} 之一"
    if not description.strip():
        errors["内容"] = "必须填写"
    if students <= 0:
        errors["受助学生"] = "须大于0"
    if value < 0:
        errors["金额或价值"] = "不能为负"
    if errors:
        raise InvalidInput(errors)
    with transaction.atomic():
        m = SchoolMeasure.objects.create(school=school, year=year, kind=kind, description=description.strip()[:300],
                                         students=students, value=value, date=date, recorded_by=actor)
        audit.record(actor, AuditAction.CREATE, object_type="school_measure", object_id=m.pk,
                     summary=f"{school.name} {year} 学年{m.get_kind_display()}：{students} 人，{fen_to_yuan_str(value)} 元")
    return m


def measures_for(user: User):
    access.require(user, Cap.READ)
    lo, hi = access.scope_range(user)
    return SchoolMeasure.objects.filter(school__region_id__gte=lo[:6] + "000000", school__region_id__lte=hi)
