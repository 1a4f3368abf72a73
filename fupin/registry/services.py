"""Every write to the registry. Each function is one transaction that writes its audit event."""
from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.forms.models import model_to_dict
from django.utils import timezone

from fupin.core import audit, idcard
from fupin.core.errors import FupinError, InvalidInput
from fupin.core.models import AuditAction, User

from .choices import EventKind, Relation, Status
from .models import Guarantee, Household, Income, MembershipEvent, Person

HOUSEHOLD_FIELDS = ["number", "village", "standard", "attribute", "main_cause", "other_cause_1",
                    "other_cause_2", "status", "status_since", "phone", "address", "housing_area",
                    "housing_structure", "housing_year", "housing_grade", "relocated",
                    "electricity", "fuel", "market_distance_km", "bank_name", "bank_account"]
PERSON_FIELDS = ["name", "sex", "id_number", "birth_date", "relation", "ethnicity", "education",
                 "schooling", "health", "disability_category", "disability_grade", "labour",
                 "migrant_months", "migrant_place", "medical_insurance", "pension_insurance",
                 "assistance"]


def _validation_to_invalid(exc: ValidationError, model) -> InvalidInput:
    errors = {}
    for field, messages in exc.message_dict.items():
        label = (model._meta.get_field(field).verbose_name
                 if field != "__all__" and field in {f.name for f in model._meta.fields} else "记录")
        errors[str(label)] = "；".join(str(m) for m in messages)
    return InvalidInput(errors)


def _clean(instance, *, exclude=None) -> None:
    try:
        instance.full_clean(exclude=exclude, validate_unique=True)
    except ValidationError as exc:
        raise _validation_to_invalid(exc, type(instance)) from None


def check_id_number(raw, *, field="证件号码") -> idcard.IdCheck:
    result = idcard.check(raw)
    if not result.valid:
        raise InvalidInput({field: result.error})
    return result


def _household_snapshot(h: Household) -> dict:
    d = model_to_dict(h, fields=HOUSEHOLD_FIELDS)
    return {k: (v if not hasattr(v, "pk") else v.pk) for k, v in d.items()}


def _validate_causes(h: Household) -> None:
    others = [c for c in (h.other_cause_1, h.other_cause_2) if c]
    if h.main_cause in others or len(set(others)) != len(others):
        raise InvalidInput({"其他致贫原因": "不能与主要致贫原因或彼此重复"})


STATUS_BY_WORKFLOW = "户状态只能通过识别、退出、监测等流程改变"


def household_create(*, actor: User, data: dict) -> Household:
    """A new household always starts as 待识别; becoming 贫困户 (or anything else) is the
    identification workflow's decision, never a field someone types (forms, API and import alike)."""
    if data.get("status") not in (None, "", Status.APPLIED):
        raise InvalidInput({"户状态": f"新户只能是“{Status.APPLIED.label}”，{STATUS_BY_WORKFLOW}；"
                                    "请保存后在户页面发起识别流程"})
    return _household_insert(actor=actor, data=data | {"status": Status.APPLIED,
                                                       "status_since": data.get("status_since") or timezone.localdate()})


@transaction.atomic
def _household_insert(*, actor: User, data: dict) -> Household:
    household = Household(**{k: v for k, v in data.items() if k in HOUSEHOLD_FIELDS})
    _validate_causes(household)
    _clean(household)
    household.save()
    audit.record(actor, AuditAction.CREATE, object_type="household", object_id=household.pk,
                 household_id=household.pk, summary=f"新增户 {household.number}",
                 detail={"fields": audit.changes({}, _household_snapshot(household))})
    return household


@transaction.atomic
def household_update(*, actor: User, household: Household, data: dict) -> Household:
    # "Before" comes from the database: a ModelForm has already written the new values into
    # `household`, and a snapshot of it would find nothing changed and save nothing.
    before = _household_snapshot(Household.objects.get(pk=household.pk))
    for key, value in data.items():
        if key in HOUSEHOLD_FIELDS and key not in ("number", "status", "status_since"):
            setattr(household, key, value)
    _validate_causes(household)
    _clean(household)
    diff = audit.changes(before, _household_snapshot(household))
    if not diff:
        return household
    household.save()
    audit.record(actor, AuditAction.UPDATE, object_type="household", object_id=household.pk,
                 household_id=household.pk, summary=f"修改户 {household.number}：" + "、".join(
                     str(Household._meta.get_field(k).verbose_name) for k in diff),
                 detail={"fields": diff})
    return household


def _person_from(data: dict, person: Person | None = None) -> Person:
    person = person or Person()
    for key, value in data.items():
        if key in PERSON_FIELDS:
            setattr(person, key, value)
    checked = check_id_number(person.id_number)
    person.id_number = checked.id
    if person.birth_date in (None, ""):
        person.birth_date = checked.birth_date
    elif person.birth_date != checked.birth_date:
        raise InvalidInput({"出生日期": f"与身份证号中的出生日期 {checked.birth_date} 不一致"})
    expected_sex = "M" if checked.sex == "男" else "F"
    if not person.sex:
        person.sex = expected_sex
    elif person.sex != expected_sex:
        raise InvalidInput({"性别": f"与身份证号第17位（{checked.sex}）不一致"})
    return person


def _save_person(person: Person) -> None:
    _clean(person, exclude=["id_reversed", "household"])
    head_taken = InvalidInput({"与户主关系": "该户已有户主，一户只能有一位在世户主"})
    if person.relation == Relation.HEAD and person.alive and person.household_id and Person.objects.filter(
            household_id=person.household_id, relation=Relation.HEAD, alive=True).exclude(pk=person.pk).exists():
        raise head_taken
    try:
        with transaction.atomic():
            person.save()
    except IntegrityError:
        # The check above can race with another writer; the partial unique index decides.
        if person.relation == Relation.HEAD:
            raise head_taken from None
        raise


def _event(actor, kind, person, date, *, from_h=None, to_h=None, note="") -> MembershipEvent:
    if date > timezone.localdate():
        raise InvalidInput({"发生日期": f"{date} 晚于今天，不能登记未发生的变动"})
    ev = MembershipEvent.objects.create(kind=kind, person=person, date=date, from_household=from_h,
                                        to_household=to_h, note=note, recorded_by=actor)
    label = EventKind(kind).label
    # a birth's date is the birth date: the timeline and the audit log name its year only (idcard.mask)
    when = f"{date.year}年" if kind == EventKind.BIRTH else date
    for h in {from_h, to_h} - {None}:
        audit.record(actor, AuditAction.MEMBERSHIP, object_type="person", object_id=person.pk,
                     household_id=h.pk, summary=f"{label}：{person.name}（{when}）",
                     detail={"kind": kind, "date": date.isoformat(), "event": ev.pk,
                             "from": from_h.number if from_h else None,
                             "to": to_h.number if to_h else None, "note": note})
    return ev


@transaction.atomic
def person_register(*, actor: User, household: Household, data: dict,
                    kind: str = EventKind.REGISTER, date: dt.date | None = None, note: str = "") -> Person:
    """Add a person to a household: first registration, birth, marriage in or move in."""
    if kind not in (EventKind.REGISTER, EventKind.BIRTH, EventKind.MARRIAGE_IN, EventKind.MOVE_IN):
        label = EventKind(kind).label if kind in EventKind.values else str(kind)[:20]
        raise FupinError(f"“{label}”不是入户类变动；可选：register（登记）、birth（出生）、marriage_in（婚入）、move_in（迁入）")
    person = _person_from(data)
    existing = Person.objects.filter(id_number=person.id_number).select_related("household").first()
    if existing is not None:
        from .selectors import where_registered
        h = existing.household
        where = where_registered(actor, h and h.number, h and h.village_id)
        raise InvalidInput({"证件号码": f"{idcard.mask(person.id_number)} 已登记在{where}，"
                                      "请办理户间迁移而不是重复登记"})
    if kind == EventKind.BIRTH and date and person.birth_date != date:
        raise InvalidInput({"发生日期": "出生登记的日期应为出生日期"})
    person.household = household
    _save_person(person)
    _event(actor, kind, person, date or timezone.localdate(), to_h=household, note=note)
    return person


@transaction.atomic
def person_update(*, actor: User, person: Person, data: dict) -> Person:
    fields = [f for f in PERSON_FIELDS]
    before = model_to_dict(Person.objects.get(pk=person.pk), fields=fields)  # not the form-mutated instance
    person = _person_from(data, person)
    if person.id_number != before["id_number"] and Person.objects.filter(
            id_number=person.id_number).exclude(pk=person.pk).exists():
        raise InvalidInput({"证件号码": f"{idcard.mask(person.id_number)} 已被其他人员使用"})
    diff = audit.changes(before, model_to_dict(person, fields=fields))
    if not diff:
        return person
    _save_person(person)
    for key in ("id_number",):
        if key in diff:  # never write a full ID into the log
            diff[key] = [idcard.mask(diff[key][0]), idcard.mask(diff[key][1])]
    audit.record(actor, AuditAction.UPDATE, object_type="person", object_id=person.pk,
                 household_id=person.household_id, summary=f"修改人员 {person.name}：" + "、".join(
                     str(Person._meta.get_field(k).verbose_name) for k in diff),
                 detail={"fields": diff})
    return person


def _lock(person: Person) -> Person:
    return Person.objects.select_for_update().get(pk=person.pk)


@transaction.atomic
def person_death(*, actor: User, person: Person, date: dt.date, note: str = "") -> Person:
    person = _lock(person)
    if not person.alive:
        raise FupinError(f"{person.name} 已于 {person.death_date} 登记死亡")
    if date < person.birth_date:
        raise InvalidInput({"死亡日期": "早于出生日期"})
    person.alive, person.death_date = False, date
    person.save(update_fields=["alive", "death_date", "updated_at"])
    _event(actor, EventKind.DEATH, person, date, from_h=person.household, note=note)
    return person


@transaction.atomic
def person_leave(*, actor: User, person: Person, kind: str, date: dt.date, note: str = "") -> Person:
    """Marriage out or move out of the registry: the person keeps their record, no household."""
    if kind not in (EventKind.MARRIAGE_OUT, EventKind.MOVE_OUT):
        raise FupinError(f"“{EventKind(kind).label}”不是出户类变动")
    person = _lock(person)
    if person.household_id is None:
        raise FupinError(f"{person.name} 当前不在任何户中")
    if person.relation == Relation.HEAD and person.household.persons.filter(alive=True).count() > 1:
        raise FupinError("户主迁出前，请先为该户另设户主")
    old = person.household
    person.household = None
    person.save(update_fields=["household", "updated_at"])
    _event(actor, kind, person, date, from_h=old, note=note)
    return person


@transaction.atomic
def person_move(*, actor: User, person: Person, to_household: Household, date: dt.date,
                relation: str = Relation.OTHER, kind: str = EventKind.MOVE, note: str = "") -> Person:
    """Move a person from their household (or from outside) into another registered household."""
    person = _lock(person)
    if not person.alive:
        raise FupinError(f"{person.name} 已死亡，不能迁移")
    if person.household_id == to_household.pk:
        raise FupinError(f"{person.name} 已在户 {to_household.number} 中")
    old = person.household
    person.household, person.relation = to_household, relation
    _save_person(person)
    _event(actor, kind, person, date, from_h=old, to_h=to_household, note=note)
    return person


@transaction.atomic
def household_split(*, actor: User, household: Household, persons: list[Person], number: str,
                    head: Person, date: dt.date, note: str = "") -> Household:
    """Split some members off into a new household in the same village."""
    if not persons or head not in persons:
        raise InvalidInput({"分出成员": "请选择分出的成员，并从中指定新户主"})
    if any(p.household_id != household.pk for p in persons):
        raise InvalidInput({"分出成员": "只能分出本户成员"})
    if len(persons) >= household.persons.filter(alive=True).count():
        raise InvalidInput({"分出成员": "不能把全部成员分出，原户至少留一人"})
    data = _household_snapshot(household) | {"number": number, "village": household.village,
                                             "bank_account": "", "bank_name": ""}
    new = _household_insert(actor=actor, data=data)  # a split keeps the family's status (a membership event)
    for p in persons:
        person_move(actor=actor, person=p, to_household=new, date=date, kind=EventKind.SPLIT,
                    relation=Relation.HEAD if p.pk == head.pk else Relation.OTHER, note=note)
    return new


@transaction.atomic
def household_merge(*, actor: User, source: Household, target: Household, date: dt.date,
                    note: str = "") -> Household:
    """Merge every member of `source` into `target`; source's head becomes a member."""
    if source.pk == target.pk:
        raise FupinError("不能与本户合并")
    members = list(source.persons.select_for_update().order_by("relation"))
    if not members:
        raise FupinError(f"户 {source.number} 没有成员")
    for p in members:
        if p.alive:
            person_move(actor=actor, person=p, to_household=target, date=date, kind=EventKind.MERGE,
                        relation=Relation.OTHER if p.relation == Relation.HEAD else p.relation, note=note)
    return target


@transaction.atomic
def income_record(*, actor: User, household: Household, year: int, wages: int, business: int,
                  transfers: int, property_income: int, costs: int, recorded_on: dt.date, source: str = "") -> Income:
    """Record (or correct) the year's income; sizes are counted from living members now."""
    if year > recorded_on.year:
        raise InvalidInput({"年度": f"{year} 年的收入不能在 {recorded_on} 采集"})
    for label, v in (("工资性收入", wages), ("家庭经营性收入", business), ("转移性收入", transfers),
                     ("财产性收入", property_income), ("生产经营性支出", costs)):
        if not isinstance(v, int) or v < 0:
            raise InvalidInput({label: "须为不小于0的金额"})
    size = household.persons.filter(alive=True).count()
    if size == 0:
        raise FupinError("该户没有在世成员，不能登记收入")
    existing = Income.objects.filter(household=household, year=year).first()
    before = model_to_dict(existing) if existing else {}
    income, _ = Income.objects.update_or_create(
        household=household, year=year,
        defaults=dict(wages=wages, business=business, transfers=transfers, property_income=property_income,
                      costs=costs, size=size, recorded_on=recorded_on, source=source))
    audit.record(actor, AuditAction.UPDATE if existing else AuditAction.CREATE, object_type="income",
                 object_id=income.pk, household_id=household.pk, summary=f"{year}年收入登记",
                 detail={"fields": audit.changes(before, model_to_dict(income))})
    return income


@transaction.atomic
def guarantee_record(*, actor: User, household: Household, item: str, met: bool,
                     checked_on: dt.date, checked_by: str, evidence: str, details: dict | None = None) -> Guarantee:
    g = Guarantee(household=household, item=item, met=met, checked_on=checked_on,
                  checked_by=checked_by, evidence=evidence, details=details or {})
    _clean(g)
    if checked_on > timezone.localdate():
        raise InvalidInput({"核查日期": "晚于今天"})
    g.save()
    audit.record(actor, AuditAction.CREATE, object_type="guarantee", object_id=g.pk,
                 household_id=household.pk,
                 summary=f"{g.get_item_display()}核查：{'达标' if met else '未达标'}（{checked_on}）")
    return g
