"""Learning support (学困生帮扶, seed 000): a teacher responsible for a learning-difficulty student of
a poor family; the teacher's talks, tutoring and home visits (每学期三次家访, pack); the term-end
results, each school's learning-support students ranked by the places they gained since the
previous term, and the progress prizes (一二三等奖 by the pack's shares; no progress, no prize).

Writes (`pair_create`, `pair_end`, `record_add`, `result_record`) check access before their
transaction and write their audit event in it; reads (`pairs_for`, `ranking`, `household_section`)
apply the user's region."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import Count

from fupin.core import access, audit
from fupin.core.errors import FupinError, InvalidInput, NotFound
from fupin.core.models import AuditAction, User
from fupin.core.roles import Cap
from fupin.policy import semester as semesters
from fupin.policy.errors import PolicyError
from fupin.registry.models import Person

from .college import _p
from .models import LearningPair, LearningRecord, LearningRecordKind, School, TermResult

PRIZES = (("first", "一等奖"), ("second", "二等奖"), ("third", "三等奖"))


def semester_code(text: str) -> str:
    try:
        return semesters.code(text)
    except PolicyError as exc:
        raise InvalidInput({"学期": exc.message}) from None


def previous_semester(code: str) -> str:
    year, term = semesters.parse(code)
    return f"{year}-spring" if term == "autumn" else f"{year - 1}-autumn"


def semester_of(day: dt.date) -> str:
    """The term a day falls in: autumn from August to January, spring from February to July."""
    if day.month == 1:
        return f"{day.year - 1}-autumn"
    return f"{day.year}-{'autumn' if day.month >= 8 else 'spring'}"


# ---- writes -------------------------------------------------------------------------------------

def pair_create(*, actor: User, school: School, person: Person, teacher: str, start: dt.date,
                subject: str = "") -> LearningPair:
    """Pair a teacher with a student of a poor family (the pack's statuses); one open pair each."""
    access.require(actor, Cap.EDU_MANAGE, what="登记学困生帮扶")
    person = access.access_person(actor, person.pk)
    if not access.in_scope(actor, school.region_id) and not access.in_scope(actor, school.region_id[:6] + "000000"):
        raise NotFound(f"找不到学校 {school.name}，或不在您的管辖范围内")
    errors = {}
    if not teacher.strip():
        errors["帮扶教师"] = "必须填写"
    statuses = _p(person.household.village_id, "education.registered_poor_statuses", start)
    if person.household.status not in statuses:
        errors["学生"] = f"{person.name} 的家庭不是建档立卡贫困家庭，学困生帮扶结对只面向贫困家庭学生"
    if errors:
        raise InvalidInput(errors)
    try:
        with transaction.atomic():
            pair = LearningPair.objects.create(school=school, person=person, teacher=teacher.strip()[:40],
                                               subject=subject.strip()[:20], start=start, created_by=actor)
            audit.record(actor, AuditAction.CREATE, object_type="learning_pair", object_id=pair.pk,
                         household_id=person.household_id,
                         summary=f"学困生帮扶结对：{pair.teacher} 帮扶 {person.name}（{school.name}）")
    except IntegrityError:
        current = LearningPair.objects.filter(person=person, ended_on__isnull=True).first()
        raise FupinError(f"{person.name} 已由 {current.teacher if current else '其他教师'} 帮扶；"
                         "一名学生同时只结对一名帮扶教师，请先结束原结对") from None
    return pair


def access_pair(user: User, pk) -> LearningPair:
    pair = pairs_for(user).select_related("person__household__village", "school").filter(pk=pk).first() \
        if str(pk).isdigit() else None
    if pair is None:
        raise NotFound(f"找不到学困生帮扶结对（编号 {pk}），或不在您的管辖范围内")
    return pair


def pair_end(*, actor: User, pair: LearningPair, on: dt.date, reason: str) -> LearningPair:
    access.require(actor, Cap.EDU_MANAGE, what="结束学困生帮扶")
    if pair.ended_on:
        raise FupinError("该结对已结束")
    if not reason.strip():
        raise InvalidInput({"结束原因": "必须填写（如已脱离学困、毕业、转学）"})
    with transaction.atomic():
        LearningPair.objects.filter(pk=pair.pk, ended_on__isnull=True).update(ended_on=on)
        audit.record(actor, AuditAction.UPDATE, object_type="learning_pair", object_id=pair.pk,
                     household_id=pair.person.household_id,
                     summary=f"结束学困生帮扶：{pair.teacher} → {pair.person.name}（{reason.strip()[:100]}）")
    pair.refresh_from_db()
    return pair


def record_add(*, actor: User, pair: LearningPair, date: dt.date, kind: str, content: str) -> LearningRecord:
    access.require(actor, Cap.EDU_MANAGE, what="登记学困生帮扶记录")
    errors = {}
    if kind not in LearningRecordKind.values:
        errors["形式"] = f"应为 {'、'.join(LearningRecordKind.labels)} 之一"
    if not content.strip():
        errors["帮扶内容"] = "必须填写"
    if date < pair.start or (pair.ended_on and date > pair.ended_on):
        errors["日期"] = f"应在结对期内（{pair.start} 起{'，至 ' + str(pair.ended_on) if pair.ended_on else ''}）"
    if errors:
        raise InvalidInput(errors)
    with transaction.atomic():
        r = LearningRecord.objects.create(pair=pair, date=date, kind=kind, content=content.strip()[:300],
                                          recorded_by=actor)
        audit.record(actor, AuditAction.CREATE, object_type="learning_record", object_id=r.pk,
                     household_id=pair.person.household_id,
                     summary=f"学困生帮扶{r.get_kind_display()}：{pair.teacher} → {pair.person.name}（{date}）")
    return r


def result_record(*, actor: User, pair: LearningPair, semester: str, score: str) -> TermResult:
    """A term-end result (total score); recording it again for the same term corrects it."""
    access.require(actor, Cap.EDU_MANAGE, what="登记学困生期末成绩")
    code = semester_code(semester)
    try:
        value = Decimal(str(score).strip())
    except InvalidOperation:
        raise InvalidInput({"期末总分": f"“{str(score)[:20]}”不是数字"}) from None
    if value < 0 or value >= 10000 or value != value.quantize(Decimal("0.1")):
        raise InvalidInput({"期末总分": "应为 0 到 9999.9 之间、最多一位小数的数"})
    with transaction.atomic():
        before = TermResult.objects.filter(pair=pair, semester=code).values_list("score", flat=True).first()
        r, _ = TermResult.objects.update_or_create(pair=pair, semester=code,
                                                   defaults={"score": value, "recorded_by": actor})
        audit.record(actor, AuditAction.UPDATE if before is not None else AuditAction.CREATE,
                     object_type="term_result", object_id=r.pk, household_id=pair.person.household_id,
                     summary=f"学困生期末成绩：{pair.person.name} {semesters.label(code)} {value} 分"
                             + (f"（原 {before} 分）" if before is not None else ""))
    return r


# ---- reads --------------------------------------------------------------------------------------

def pairs_for(user: User):
    access.require(user, Cap.READ)
    lo, hi = access.scope_range(user)
    return LearningPair.objects.filter(person__household__village_id__gte=lo, person__household__village_id__lte=hi)


def _ranks(scores: dict[int, Decimal]) -> dict[int, int]:
    """Competition ranks (1, 2, 2, 4) by score, highest first."""
    ordered = sorted(scores.values(), reverse=True)
    return {k: ordered.index(v) + 1 for k, v in scores.items()}


def ranking(user: User, school: School, semester: str) -> list[dict]:
    """The school's learning-support students with a result this term: their place this term and
    last term, the places gained, and the progress prize (pack shares of those who gained)."""
    code = semester_code(semester)
    prev = previous_semester(code)
    results = list(TermResult.objects.filter(pair__in=pairs_for(user).filter(school=school), semester__in=[code, prev])
                   .select_related("pair__person__household__village"))
    now = {r.pair.person_id: r for r in results if r.semester == code}
    before = {r.pair.person_id: r.score for r in results if r.semester == prev}
    rank_now = _ranks({k: r.score for k, r in now.items()})
    # places gained are counted among the same students both terms (those with both results), so a
    # newcomer's result does not push everyone down a place
    both = [k for k in now if k in before]
    rank_before = _ranks({k: before[k] for k in both})
    rank_both = _ranks({k: now[k].score for k in both})
    rows = []
    for pid, r in now.items():
        gained = rank_before[pid] - rank_both[pid] if pid in rank_before else None
        rows.append({"person": r.pair.person, "teacher": r.pair.teacher, "score": r.score, "rank": rank_now[pid],
                     "previous_score": before.get(pid), "previous_rank": rank_before.get(pid), "gained": gained,
                     "prize": ""})
    rows.sort(key=lambda x: (x["gained"] is None, -(x["gained"] or 0), x["rank"], x["person"].name))
    improved = [x for x in rows if x["gained"] and x["gained"] > 0]
    shares = _p(school.region_id, "education.learning_support.prizes", semesters_start(code))
    n1 = len(improved) * int(shares["first"]) // 100
    n2 = len(improved) * (int(shares["first"]) + int(shares["second"])) // 100
    for i, x in enumerate(improved):
        x["prize"] = PRIZES[0][1] if i < n1 else PRIZES[1][1] if i < n2 else PRIZES[2][1]
    for x in rows:
        if not x["prize"]:
            x["prize"] = "不予评价（没有进步）" if x["gained"] is not None else "不予评价（上学期无成绩）"
    return rows


def semesters_start(code: str) -> dt.date:
    year, term = semesters.parse(code)
    return dt.date(year, 9 if term == "autumn" else 3, 1)


def visits_this_term(pair_ids: list[int], day: dt.date) -> dict[int, int]:
    code = semester_of(day)
    year, term = semesters.parse(code)
    lo, hi = (dt.date(year, 8, 1), dt.date(year + 1, 1, 31)) if term == "autumn" else (dt.date(year, 2, 1), dt.date(year, 7, 31))
    return dict(LearningRecord.objects.filter(pair_id__in=pair_ids, kind=LearningRecordKind.HOME_VISIT,
                                              date__gte=lo, date__lte=hi)
                .values("pair_id").annotate(n=Count("id")).values_list("pair_id", "n"))


def household_section(user: User, household) -> dict:
    pairs = list(LearningPair.objects.filter(person__household=household).select_related("person", "school")
                 .annotate(n_records=Count("records")).order_by("-start", "id"))
    results = {}
    for r in TermResult.objects.filter(pair__in=[p.pk for p in pairs]).order_by("semester"):
        results.setdefault(r.pair_id, []).append(f"{semesters.label(r.semester)} {r.score} 分")
    for p in pairs:
        p.shown_results = results.get(p.pk, [])
    return {"pairs": pairs}
