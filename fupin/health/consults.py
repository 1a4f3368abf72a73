"""Tele-consultation (远程会诊, seed 004: 提高远程会诊……业务数量和质量): a township or county hospital
asks a higher-level hospital about a patient; the answer (the consultant's opinion) is recorded
against the request. Each patient's consultations form their record; the indicator page counts
them by year."""
from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Count, Q

from fupin.core import access, audit
from fupin.core.errors import FupinError, InvalidInput, NotFound
from fupin.core.models import AuditAction, User
from fupin.core.roles import Cap

from .models import Consultation, Hospital
from .programmes import _access_patient

RANK = {"township": 1, "county": 2, "city": 3, "province": 4}


def _hospital(raw, field: str) -> Hospital:
    h = Hospital.objects.filter(pk=raw).first() if str(raw).isdigit() else None
    if h is None:
        raise InvalidInput({field: "请从列表中选择"})
    return h


def consultation_request(*, actor: User, person, requester_id, consultant_id, on: dt.date, question: str) -> Consultation:
    """The requesting hospital lies in the actor's region; the consultant is of a higher level
    (it may lie outside the county: a city or provincial hospital)."""
    _access_patient(actor, person, Cap.RECORD_CONDITION, "申请远程会诊")
    requester = _hospital(requester_id, "申请医院")
    if not access.in_scope(actor, requester.region_id):
        raise InvalidInput({"申请医院": "请从您辖区的医疗机构中选择"})
    consultant = _hospital(consultant_id, "会诊医院")
    if RANK[consultant.level] <= RANK[requester.level]:
        raise InvalidInput({"会诊医院": f"应为比{requester.name}（{requester.get_level_display()}）更高一级的医院"})
    if not question.strip():
        raise InvalidInput({"会诊目的": "必须填写"})
    with transaction.atomic():
        c = Consultation.objects.create(person=person, requester=requester, consultant=consultant, requested_on=on,
                                        question=question.strip()[:200], requested_by=actor)
        audit.record(actor, AuditAction.CREATE, object_type="consultation", object_id=c.pk,
                     household_id=person.household_id,
                     summary=f"{requester.name} 申请 {consultant.name} 远程会诊：{person.name}（{on}）")
    return c


def access_consultation(user: User, pk, cap: str = Cap.READ) -> Consultation:
    access.require(user, cap)
    c = Consultation.objects.select_related("person__household", "requester", "consultant").filter(pk=pk).first() \
        if str(pk).isdigit() else None
    if c is None or c.person.household is None or not access.in_scope(user, c.person.household.village_id):
        raise NotFound("找不到该会诊记录，或不在您的管辖范围内")
    return c


def consultation_answer(*, actor: User, consultation_id, on: dt.date, opinion: str) -> Consultation:
    c = access_consultation(actor, consultation_id, Cap.RECORD_CONDITION)
    if not opinion.strip():
        raise InvalidInput({"会诊意见": "必须填写"})
    if on < c.requested_on:
        raise InvalidInput({"会诊日期": f"不能早于申请日期 {c.requested_on}"})
    with transaction.atomic():
        if Consultation.objects.filter(pk=c.pk, answered_on__isnull=True).update(
                answered_on=on, opinion=opinion.strip()[:500], answered_by=actor) != 1:
            raise FupinError("该会诊已有会诊意见")
        audit.record(actor, AuditAction.UPDATE, object_type="consultation", object_id=c.pk,
                     household_id=c.person.household_id, summary=f"{c.consultant.name} 会诊意见：{c.person.name}（{on}）")
    c.refresh_from_db()
    return c


def consultations(user: User, region_code: str, year: int):
    """The year's consultations of the region's patients (requested that year), newest first."""
    region = access.access_region(user, region_code)
    lo, hi = region.code_range()
    return region, Consultation.objects.filter(
        person__in=access.persons_for(user), requested_on__year=year,
        person__household__village_id__gte=lo, person__household__village_id__lte=hi) \
        .select_related("person__household__village", "requester", "consultant").order_by("-requested_on", "-pk")


def consultation_counts(user: User, region_code: str, year: int) -> dict:
    _, qs = consultations(user, region_code, year)
    c = qs.order_by().aggregate(total=Count("pk"), answered=Count("pk", filter=Q(answered_on__isnull=False)))
    by_level = dict(qs.order_by().values_list("consultant__level").annotate(n=Count("pk")))
    levels = dict(Hospital._meta.get_field("level").choices)
    return {"total": c["total"], "answered": c["answered"], "pending": c["total"] - c["answered"],
            "by_level": [(levels[k], by_level[k]) for k in ("county", "city", "province") if by_level.get(k)]}
