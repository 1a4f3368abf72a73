"""Tele-consultation (远程会诊, seed 004: 提高远程会诊……业务数量和质量): a township or county hospital
asks a higher-level hospital about a patient; the answer (the consultant's opinion) is recorded
against the request. Each patient's consultations form their record; the indicator page counts
them by year."""
from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Count, Q, Sum

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


# ---- 巡回医疗: mobile clinics (seed 004: 区级每年至少4次，乡（镇）级每月至少1次，覆盖所有乡镇) ----------------

def mobile_clinic_record(*, actor: User, hospital_id, township_code: str, on: dt.date, persons):
    from django.db import IntegrityError

    from fupin.core.models import Region

    from .models import MobileClinic

    access.require(actor, Cap.RECORD_CONDITION, what="登记巡回医疗")
    hospital = _hospital(hospital_id, "医疗机构")
    township = Region.objects.filter(code=township_code, level=4).first()
    errors = {}
    if not access.in_scope(actor, hospital.region_id) or hospital.level not in ("township", "county"):
        errors["医疗机构"] = "请从您辖区的县级医院、乡镇卫生院中选择"
    if township is None or not access.in_scope(actor, township.code):
        errors["巡诊乡镇"] = "请从您辖区的乡镇中选择"
    if not str(persons).isdigit():
        errors["诊疗人次"] = "应为不小于0的整数"
    if errors:
        raise InvalidInput(errors)
    try:
        with transaction.atomic():
            m = MobileClinic.objects.create(hospital=hospital, township=township, date=on, persons=int(persons),
                                            recorded_by=actor)
            audit.record(actor, AuditAction.CREATE, object_type="mobile_clinic", object_id=m.pk,
                         summary=f"{hospital.name} 到{township.name}巡回医疗（{on}，{int(persons)} 人次）")
    except IntegrityError:
        raise FupinError(f"{hospital.name} {on} 到{township.name}的巡回医疗已登记") from None
    return m


def mobile_clinic_status(user: User, region_code: str, year: int, on: dt.date) -> dict:
    """Each county and township hospital of the region: outings this year up to `on` against what
    the pack asks by then (county hospitals: the year's number by year end; township hospitals:
    so many a month, for the months begun); and the townships no outing reached."""
    from fupin.core.models import Region
    from fupin.policy.errors import PolicyError

    from . import services
    from .models import MobileClinic

    region = access.access_region(user, region_code)
    lo, hi = region.code_range()
    chain = services.packs().for_region(region.code)
    try:
        per_year = chain.lookup("health.mobile.county_per_year", on).value
        per_month = chain.lookup("health.mobile.township_per_month", on).value
    except PolicyError:
        raise FupinError(f"{year} 年还没有施行巡回医疗的次数要求") from None
    months = on.month if on.year == year else 12
    clinics = MobileClinic.objects.filter(date__year=year, date__lte=on, township__code__gte=lo, township__code__lte=hi)
    counts = dict(clinics.values_list("hospital_id").annotate(n=Count("pk")))
    persons = dict(clinics.values_list("hospital_id").annotate(n=Sum("persons")))
    rows = []
    for h in Hospital.objects.filter(region_id__gte=lo, region_id__lte=hi, level__in=("county", "township")) \
            .order_by("level", "code"):
        need = per_year if h.level == "county" else per_month * months
        done = counts.get(h.pk, 0)
        rows.append({"hospital": h.name, "level": h.get_level_display(), "done": done, "persons": persons.get(h.pk, 0),
                     "need": need, "meets": done >= need})
    reached = set(clinics.values_list("township_id", flat=True))
    townships = list(Region.objects.filter(code__gte=lo, code__lte=hi, level=4).order_by("code"))
    return {"region": region, "year": year, "on": on, "hospitals": rows, "outings": sum(counts.values()),
            "persons": sum(persons.values()), "townships": len(townships),
            "unreached": [t.name for t in townships if t.code not in reached]}

