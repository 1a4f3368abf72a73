"""Writes of the villages room: the register, yearly finance, responsibilities and the exit of a
village as a whole. Access is checked before a transaction opens (a refusal's audit row stays);
every change writes its audit event in the same transaction."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction

from fupin.core import access, audit
from fupin.core.errors import AccessDenied, FupinError, InvalidInput, NotFound
from fupin.core.models import AuditAction, Level, Region, User
from fupin.core.roles import Cap

from .models import Duty, DutyKind, Finance, PoorKind, Village

# The register's editable fields (what forms and the importer may set).
FIELDS = ("poor_kind", "poor_since", "key_since", "exited_on", "households", "population", "arable_land_mu",
          "road_km", "road_hardened", "wells", "piped_water", "electricity", "broadband", "clinic", "culture_room")
NUMBER_LIMITS = {"households": 100_000, "population": 1_000_000, "wells": 10_000}
DECIMAL_LIMITS = {"arable_land_mu": Decimal("10000000"), "road_km": Decimal("100000")}
LABELS = {f: Village._meta.get_field(f).verbose_name for f in FIELDS}


def access_village_region(user: User, code: str, cap: str = Cap.READ) -> Region:
    """A village (level-5 region) of the user's scope; other regions are not found."""
    access.require(user, cap)
    region = Region.objects.select_related("parent").filter(code=code, level=Level.VILLAGE).first()
    if region is None or not access.in_scope(user, region.code):
        raise NotFound(f"找不到村 {code[:20]}，或不在您的管辖范围内")
    return region


def validate(values: dict) -> dict:
    """The one validation of register values (forms and the importer): returns clean values or
    raises InvalidInput naming each wrong field in Chinese."""
    errors, clean = {}, {}
    for f in FIELDS:
        if f not in values:
            continue
        v = values[f]
        if f == "poor_kind":
            if v not in PoorKind.values:
                errors[LABELS[f]] = f"应为{'、'.join(PoorKind.labels)}之一"
        elif f in NUMBER_LIMITS:
            if not isinstance(v, int) or not 0 <= v <= NUMBER_LIMITS[f]:
                errors[LABELS[f]] = f"应为 0 到 {NUMBER_LIMITS[f]} 之间的整数"
        elif f in DECIMAL_LIMITS:
            if not isinstance(v, Decimal) or not 0 <= v <= DECIMAL_LIMITS[f] or v != v.quantize(Decimal("0.01")):
                errors[LABELS[f]] = f"应为 0 到 {DECIMAL_LIMITS[f]} 之间、最多两位小数的数"
        elif f in ("poor_since", "key_since", "exited_on"):
            if v is not None and not isinstance(v, dt.date):
                errors[LABELS[f]] = "应为日期"
        elif not isinstance(v, bool):
            errors[LABELS[f]] = "应为“是”或“否”"
        clean[f] = v
    if errors:
        raise InvalidInput(errors)
    kind = clean.get("poor_kind")
    if kind in (PoorKind.POOR, PoorKind.KEY) and not clean.get("poor_since", True):
        errors[LABELS["poor_since"]] = "贫困村须填写认定日期"
    if kind == PoorKind.KEY and not clean.get("key_since", True):
        errors[LABELS["key_since"]] = "重点贫困村须填写列为重点村的日期"
    if clean.get("key_since") and clean.get("poor_since") and clean["key_since"] < clean["poor_since"]:
        errors[LABELS["key_since"]] = "不能早于认定为贫困村的日期"
    if clean.get("exited_on") and clean.get("poor_since") and clean["exited_on"] < clean["poor_since"]:
        errors[LABELS["exited_on"]] = "不能早于认定为贫困村的日期"
    if errors:
        raise InvalidInput(errors)
    return clean


def _collective_account(region: Region):
    from fupin.funds import services as funds
    from fupin.funds.models import AccountKind, FundingSource

    return funds.account_for(code=f"village:{region.code}", name=f"{region.name}村集体账户", kind=AccountKind.BUDGET,
                             source=FundingSource.SOCIAL, programme="village.collective", region_id=region.code)


def _save(actor: User, region: Region, clean: dict) -> tuple[Village, bool]:
    """Inside the caller's transaction: create or update the record; audit what changed."""
    village = Village.objects.select_for_update().filter(region=region).first()
    created = village is None
    if created:
        village = Village(region=region)
    before = {f: getattr(village, f) for f in FIELDS} if not created else {}
    for f, v in clean.items():
        setattr(village, f, v)
    after = {f: getattr(village, f) for f in FIELDS}
    changed = audit.changes(before, after)
    if village.collective_account_id is None:
        village.collective_account = _collective_account(region)
    if created or changed:
        village.save()
        audit.record(actor, AuditAction.CREATE if created else AuditAction.UPDATE, object_type="village",
                     object_id=region.code, summary=f"{'建立' if created else '修改'}{region.name}村级档案",
                     detail={"changes": changed})
    return village, created or bool(changed)


def village_save(*, actor: User, code: str, values: dict) -> Village:
    region = access_village_region(actor, code, Cap.VILLAGE_MANAGE)
    clean = validate(values)
    with transaction.atomic():
        return _save(actor, region, clean)[0]


def finance_save(*, actor: User, code: str, year: int, income: int, collective_income: int, debt: int,
                 debt_note: str = "") -> Finance:
    region = access_village_region(actor, code, Cap.VILLAGE_MANAGE)
    errors = {}
    if not 1990 <= year <= 2100:
        errors["年度"] = "应为四位年份"
    for label, v in (("村级收入", income), ("集体经济收入", collective_income), ("负债", debt)):
        if not isinstance(v, int) or v < 0:
            errors[label] = "应为不小于 0 的金额（元）"
    if len(debt_note) > 200:
        errors["负债说明"] = "最多 200 字"
    if errors:
        raise InvalidInput(errors)
    with transaction.atomic():
        village = Village.objects.filter(region=region).first() or _save(actor, region, {})[0]
        return _finance(actor, village, year, dict(income=income, collective_income=collective_income, debt=debt,
                                                   debt_note=debt_note))


def _finance(actor: User, village: Village, year: int, values: dict) -> Finance | None:
    f = Finance.objects.filter(village=village, year=year).first()
    before = {} if f is None else {k: getattr(f, k) for k in values}
    changed = audit.changes(before, values)
    if f is not None and not changed:
        return f
    if f is None:
        f = Finance.objects.create(village=village, year=year, **values)
    else:
        for k, v in values.items():
            setattr(f, k, v)
        f.save()
    audit.record(actor, AuditAction.UPDATE, object_type="village_finance", object_id=village.region_id,
                 summary=f"{village.region.name}村 {year} 年村级财务", detail={"year": year, "changes": changed})
    return f


def duty_assign(*, actor: User, code: str, kind: str, name: str, unit: str = "", programme: str = "",
                start: dt.date, replaces_id: int | None = None) -> Duty:
    """Record who is responsible from `start`. With `replaces_id` it is a rotation: the one replaced
    (same village and kind, still responsible) ends the day before."""
    region = access_village_region(actor, code, Cap.VILLAGE_MANAGE)
    errors = {}
    if kind not in DutyKind.values:
        errors["类别"] = f"应为{'、'.join(DutyKind.labels)}之一"
    if not name.strip() or len(name) > 80:
        errors["单位或姓名"] = "必须填写，最多 80 字"
    if len(unit) > 80 or len(programme) > 40:
        errors["所在单位与职务"] = "所在单位最多 80 字，帮扶项目最多 40 字"
    if errors:
        raise InvalidInput(errors)
    with transaction.atomic():
        village = Village.objects.filter(region=region).first() or _save(actor, region, {})[0]
        replaced = None
        if replaces_id is not None:
            replaced = Duty.objects.select_for_update().filter(pk=replaces_id, village=village).first()
            if replaced is None:
                raise NotFound("找不到要接替的帮扶责任记录，或它不属于这个村")
            if replaced.kind != kind:
                raise InvalidInput({"接替": f"应接替同一类别（{DutyKind(kind).label}）的记录"})
            if replaced.end is not None:
                raise FupinError(f"{replaced.name} 已于 {replaced.end} 结束，不能再被接替")
            if start <= replaced.start:
                raise InvalidInput({"开始日期": f"应晚于被接替者的开始日期 {replaced.start}"})
            replaced.end = start - dt.timedelta(days=1)
            replaced.save(update_fields=["end"])
        duty = Duty.objects.create(village=village, kind=kind, name=name.strip(), unit=unit.strip(),
                                   programme=programme.strip(), start=start, replaces=replaced, created_by=actor)
        audit.record(actor, AuditAction.CREATE, object_type="village_duty", object_id=region.code,
                     summary=f"{region.name}村{DutyKind(kind).label}：{duty.name}（{start} 起"
                             f"{f'，接替 {replaced.name}' if replaced else ''}）")
        return duty


def duty_end(*, actor: User, code: str, duty_id: int, end: dt.date) -> Duty:
    region = access_village_region(actor, code, Cap.VILLAGE_MANAGE)
    with transaction.atomic():
        duty = Duty.objects.select_for_update().filter(pk=duty_id, village_id=region.code).first()
        if duty is None:
            raise NotFound("找不到这条帮扶责任记录，或它不属于这个村")
        if duty.end is not None:
            raise FupinError(f"已于 {duty.end} 结束")
        if end < duty.start:
            raise InvalidInput({"结束日期": f"不能早于开始日期 {duty.start}"})
        duty.end = end
        duty.save(update_fields=["end"])
        audit.record(actor, AuditAction.UPDATE, object_type="village_duty", object_id=region.code,
                     summary=f"{region.name}村{duty.get_kind_display()} {duty.name} 于 {end} 结束")
        return duty


def village_exit(*, actor: User, code: str, on: dt.date) -> Village:
    """The exit of a poor village as a whole: only when the pack's criteria are all met on `on`;
    otherwise the plain-Chinese explanation says which are not."""
    from . import selectors

    region = access_village_region(actor, code, Cap.VILLAGE_MANAGE)
    with transaction.atomic():
        village = Village.objects.select_for_update().filter(region=region).first()
        if village is None or village.poor_kind == PoorKind.NONE:
            raise FupinError(f"{region.name}不是贫困村，无需退出")
        if village.exited_on is not None:
            raise FupinError(f"{region.name}已于 {village.exited_on} 整村退出")
        result = selectors.exit_check(actor, region.code, on=on)
        if not result["eligible"]:
            raise FupinError(result["explanation"])
        village.exited_on = on
        village.save(update_fields=["exited_on", "updated_at"])
        audit.record(actor, AuditAction.UPDATE, object_type="village", object_id=region.code,
                     summary=f"{region.name}整村退出（{on}）", detail={"check": result})
        return village


__all__ = ["access_village_region", "validate", "village_save", "finance_save", "duty_assign", "duty_end",
           "village_exit", "AccessDenied"]
