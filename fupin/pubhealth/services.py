"""Writes of the pubhealth room: programme activities and the indicators' yearly figures. Access is
checked before a transaction opens; each change writes its audit event in the same transaction."""
from __future__ import annotations

import datetime as dt

from django.db import transaction

from fupin.core import access, audit
from fupin.core.errors import InvalidInput, NotFound
from fupin.core.models import AuditAction, Level, Region, User
from fupin.core.roles import Cap

from . import catalogue
from .models import Activity, Figure

COUNT_MAX = 10_000_000


def _region(user: User, code: str, label: str, levels=(Level.TOWNSHIP, Level.VILLAGE)) -> Region:
    region = Region.objects.filter(code=code).first()
    if region is None or not access.in_scope(user, code):
        raise NotFound(f"{label} {code[:20]} 不存在或不在您的管辖范围内")
    if region.level not in levels:
        raise InvalidInput({label: f"{region.name}不是{'乡镇或村' if Level.COUNTY not in levels else '县、乡镇或村'}"})
    return region


def activity_record(*, actor: User, region_code: str, programme: str, date: dt.date, place: str, participants: int,
                    organiser: str = "", note: str = "") -> Activity:
    access.require(actor, Cap.PUBHEALTH_MANAGE, what="登记公共卫生项目活动")
    region = _region(actor, region_code, "乡镇或村")
    errors = {}
    if programme not in catalogue.programmes():
        errors["项目"] = "请从列表中选择项目"
    if not place.strip() or len(place) > 80:
        errors["地点"] = "必须填写，最多 80 字"
    if not isinstance(participants, int) or not 0 <= participants <= COUNT_MAX:
        errors["参加人数"] = f"应为 0 到 {COUNT_MAX} 的整数"
    if len(organiser) > 80 or len(note) > 300:
        errors["情况说明"] = "组织单位最多 80 字，说明最多 300 字"
    if errors:
        raise InvalidInput(errors)
    with transaction.atomic():
        a = Activity.objects.create(region=region, programme=programme, date=date, place=place.strip(),
                                    organiser=organiser.strip(), participants=participants, note=note.strip(),
                                    recorded_by=actor)
        audit.record(actor, AuditAction.CREATE, object_type="pubhealth_activity", object_id=a.pk,
                     summary=f"{region.name}{catalogue.programmes()[programme]['name']}（{date}，{place.strip()[:30]}，"
                             f"{participants}{catalogue.programmes()[programme]['unit']}）")
    return a


def validate_figure(indicator: str, year, numerator, denominator) -> None:
    """The one validation of a figure (import and any future form)."""
    errors = {}
    if indicator not in catalogue.indicators():
        errors["指标"] = "不是可选的公共卫生指标"
    if not isinstance(year, int) or not 2000 <= year <= 2100:
        errors["年度"] = "应为四位年份"
    if not isinstance(denominator, int) or not 1 <= denominator <= COUNT_MAX:
        errors["分母"] = f"应为 1 到 {COUNT_MAX} 的整数"
    if not isinstance(numerator, int) or not 0 <= numerator <= COUNT_MAX:
        errors["分子"] = f"应为 0 到 {COUNT_MAX} 的整数"
    elif not errors and numerator > denominator:
        errors["分子"] = f"{numerator} 大于分母 {denominator}"
    if errors:
        raise InvalidInput(errors)


def _figure(actor: User, region: Region, year: int, indicator: str, numerator: int, denominator: int,
            source: str) -> str:
    """Inside the caller's transaction: 'created', 'updated' or 'unchanged'."""
    f = Figure.objects.filter(region=region, year=year, indicator=indicator).first()
    values = {"numerator": numerator, "denominator": denominator, "source": source}
    if f is not None and all(getattr(f, k) == v for k, v in values.items()):
        return "unchanged"
    before = {} if f is None else {k: getattr(f, k) for k in values}
    saved, _ = Figure.objects.update_or_create(region=region, year=year, indicator=indicator, defaults=values)
    # the record's number, not a compound key: the audit page shows object ids to auditors
    audit.record(actor, AuditAction.CREATE if f is None else AuditAction.UPDATE, object_type="pubhealth_figure",
                 object_id=saved.pk,
                 summary=f"{region.name} {year}年{catalogue.indicators()[indicator]['name']}：{numerator}/{denominator}",
                 detail={"changes": audit.changes(before, values)})
    return "created" if f is None else "updated"
