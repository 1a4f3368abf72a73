"""The indicators' figures in from the health systems' Excel (one row per region, year and
indicator) and out again in the same layout. All or nothing, with an error workbook; re-importing
the same file changes nothing (the house's importer rules)."""
from __future__ import annotations

import io

from django.db import transaction

from fupin.core import access, audit
from fupin.core.errors import InvalidInput
from fupin.core.models import AuditAction, Level, Region, User
from fupin.core.roles import Cap
from fupin.exchange import excel
from fupin.exchange.excel import CellError, Column, FileRejected, ImportReport, Problem

from . import catalogue, services
from .models import Figure


def _indicator(value):
    if excel.is_blank(value):
        return ""
    text = str(value).strip()
    for code, ind in catalogue.indicators().items():
        if text in (code, ind["name"]):
            return code
    raise CellError(f"“{text[:30]}”不是可选的指标；请用模板第二页的指标名称")


N = services.COUNT_MAX
COLUMNS = [
    Column("code", "区划代码", excel.digits(12, 12, "区划代码"), required=True, aliases=("村代码", "乡镇代码")),
    Column("name", "区划名称", excel.text(60)),
    Column("year", "年度", excel.integer(2000, 2100), required=True),
    Column("indicator", "指标", _indicator, required=True, aliases=("指标名称",)),
    Column("numerator", "分子", excel.integer(0, N), required=True),
    Column("denominator", "分母", excel.integer(0, N), required=True),
    Column("source", "数据来源", excel.text(80), note="如：免疫规划信息系统、妇幼卫生年报"),
]
HEADERS = [c.header for c in COLUMNS]


def import_figures(user: User, data: bytes, filename: str = "") -> ImportReport:
    access.require(user, Cap.PUBHEALTH_MANAGE, what="导入公共卫生指标数据")
    report = ImportReport()
    try:
        table = excel.read_table(data, COLUMNS, filename=filename)
    except FileRejected as exc:
        report.problems.append(Problem(None, None, None, None, exc.message))
        return report
    problems, pos = table.problems, table.positions

    def bad(row, key, value, message):
        col = next(c for c in COLUMNS if c.key == key)
        problems.append(Problem(row, excel._letter(pos.get(key)), col.header, value, message))

    regions = {r.code: r for r in Region.objects.filter(code__in={v.get("code") for _, v in table.rows})}
    seen, wanted = {}, []
    unreadable = {p.row for p in problems}     # a cell that did not parse is reported once, by the reader
    for row, v in table.rows:
        if row in unreadable:
            continue
        region = regions.get(v.get("code"))
        if region is None or not access.in_scope(user, region.code) or region.level < Level.COUNTY:
            bad(row, "code", v.get("code"), f"区划代码 {v.get('code')} 不存在、不是县乡村级或不在您的管辖范围内")
            continue
        if v.get("name") and v["name"] != region.name:
            bad(row, "name", v["name"], f"与区划库中的名称“{region.name}”不一致")
        try:
            services.validate_figure(v.get("indicator"), v.get("year"), v.get("numerator"), v.get("denominator"))
        except InvalidInput as exc:
            keys = {"指标": "indicator", "年度": "year", "分子": "numerator", "分母": "denominator"}
            for label, message in exc.errors.items():
                bad(row, keys[label], v.get(keys[label]), message)
            continue
        key = (region.code, v["year"], v["indicator"])
        if key in seen:
            bad(row, "indicator", v["indicator"], f"与第{seen[key]}行是同一区划、年度和指标")
        seen[key] = row
        wanted.append((region, v))
    if problems:
        report.problems = sorted(problems, key=lambda p: (p.row or 0, p.column or ""))
        report.error_workbook = excel.error_workbook(table, report.problems)
        return report
    with transaction.atomic():
        for region, v in wanted:
            result = services._figure(user, region, v["year"], v["indicator"], v["numerator"], v["denominator"],
                                      v.get("source") or "")
            setattr(report, result, getattr(report, result) + 1)
        audit.record(user, AuditAction.IMPORT, object_type="pubhealth_figures", object_id=filename[:60],
                     summary=f"导入公共卫生指标数据：新增 {report.created}、更新 {report.updated}、无变化 {report.unchanged}")
    return report


def export_figures(user: User, region: Region, year: int) -> bytes:
    from openpyxl import Workbook

    access.require(user, Cap.EXPORT, what="导出公共卫生指标数据")
    lo, hi = access.scope_range(user)
    rlo, rhi = region.code_range()
    names = catalogue.indicators()
    rows = [[f.region_id, f.region.name, f.year, names[f.indicator]["name"] if f.indicator in names else f.indicator,
             f.numerator, f.denominator, f.source]
            for f in Figure.objects.filter(region_id__gte=max(lo, rlo), region_id__lte=min(hi, rhi), year=year)
            .select_related("region").order_by("region_id", "indicator")]
    wb = Workbook(write_only=True)
    excel.write_sheet(wb.create_sheet("公共卫生指标"), HEADERS, rows)
    _catalogue_sheet(wb)
    out = io.BytesIO()
    wb.save(out)
    audit.record(user, AuditAction.EXPORT, object_type="pubhealth_figures", object_id=f"{region.code}:{year}",
                 summary=f"导出{year}年公共卫生指标数据：{len(rows)} 行")
    return out.getvalue()


def _catalogue_sheet(wb) -> None:
    excel.write_sheet(wb.create_sheet("指标说明"), ["指标", "分子", "分母"],
                      [[i["name"], i["numerator"], i["denominator"]] for i in catalogue.indicators().values()])


def template_bytes() -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    excel.write_sheet(wb.create_sheet("公共卫生指标"), HEADERS, [])
    _catalogue_sheet(wb)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# ---- programme activities ----------------------------------------------------------------------

from .models import Activity  # noqa: E402


def _programme(value):
    if excel.is_blank(value):
        return ""
    text = str(value).strip()
    for code, p in catalogue.programmes().items():
        if text in (code, p["name"]):
            return code
    raise CellError(f"“{text[:30]}”不是可选的项目；可选：{'、'.join(p['name'] for p in catalogue.programmes().values())}")


ACTIVITY_COLUMNS = [
    Column("code", "乡镇或村代码", excel.digits(12, 12, "区划代码"), required=True, aliases=("区划代码",)),
    Column("programme", "项目", _programme, required=True),
    Column("date", "日期", excel.date, required=True),
    Column("place", "地点", excel.text(80), required=True),
    Column("organiser", "组织单位", excel.text(80)),
    Column("participants", "参加人数", excel.integer(0, N), required=True),
    Column("note", "情况说明", excel.text(300)),
]
ACTIVITY_HEADERS = [c.header for c in ACTIVITY_COLUMNS]


def import_activities(user: User, data: bytes, filename: str = "") -> ImportReport:
    """Activities reported by the townships' health centres; the same region, programme, date and place
    again is the same activity (unchanged or updated), so a file imported twice adds nothing."""
    access.require(user, Cap.PUBHEALTH_MANAGE, what="导入公共卫生项目活动")
    report = ImportReport()
    try:
        table = excel.read_table(data, ACTIVITY_COLUMNS, filename=filename)
    except FileRejected as exc:
        report.problems.append(Problem(None, None, None, None, exc.message))
        return report
    problems, pos = table.problems, table.positions

    def bad(row, key, value, message):
        col = next(c for c in ACTIVITY_COLUMNS if c.key == key)
        problems.append(Problem(row, excel._letter(pos.get(key)), col.header, value, message))

    unreadable = {p.row for p in problems}
    regions = {r.code: r for r in Region.objects.filter(code__in={v.get("code") for _, v in table.rows})}
    seen, wanted = {}, []
    for row, v in table.rows:
        if row in unreadable:
            continue
        region = regions.get(v["code"])
        if region is None or not access.in_scope(user, region.code) or region.level not in (Level.TOWNSHIP, Level.VILLAGE):
            bad(row, "code", v["code"], f"区划代码 {v['code']} 不存在、不是乡镇或村，或不在您的管辖范围内")
            continue
        key = (region.code, v["programme"], v["date"], v["place"].strip())
        if key in seen:
            bad(row, "place", v["place"], f"与第{seen[key]}行是同一地点、日期的同一项目")
        seen[key] = row
        wanted.append((region, v))
    if problems:
        report.problems = sorted(problems, key=lambda p: (p.row or 0, p.column or ""))
        report.error_workbook = excel.error_workbook(table, report.problems)
        return report
    with transaction.atomic():
        for region, v in wanted:
            values = {"organiser": (v.get("organiser") or "").strip(), "participants": v["participants"],
                      "note": (v.get("note") or "").strip()}
            a = Activity.objects.filter(region=region, programme=v["programme"], date=v["date"],
                                        place=v["place"].strip()).first()
            if a is not None and all(getattr(a, k) == x for k, x in values.items()):
                report.unchanged += 1
                continue
            if a is None:
                a = Activity.objects.create(region=region, programme=v["programme"], date=v["date"],
                                            place=v["place"].strip(), recorded_by=user, **values)
                report.created += 1
            else:
                for k, x in values.items():
                    setattr(a, k, x)
                a.save()
                report.updated += 1
            audit.record(user, AuditAction.IMPORT, object_type="pubhealth_activity", object_id=a.pk,
                         summary=f"{region.name}{catalogue.programmes()[a.programme]['name']}（{a.date}，{a.place[:30]}，"
                                 f"{a.participants}{catalogue.programmes()[a.programme]['unit']}）")
        audit.record(user, AuditAction.IMPORT, object_type="pubhealth_activities", object_id=filename[:60],
                     summary=f"导入公共卫生项目活动：新增 {report.created}、更新 {report.updated}、无变化 {report.unchanged}")
    return report


def activity_template_bytes() -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    excel.write_sheet(wb.create_sheet("项目活动"), ACTIVITY_HEADERS, [])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
