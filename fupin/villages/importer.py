"""The village register in and out of Excel: one row per village (and year, for its finance).
Import is all or nothing with an error workbook marking each bad cell; re-importing the same
file changes nothing (the house's importer rules, fupin/exchange)."""
from __future__ import annotations

import io

from django.db import transaction

from fupin.core import access, audit
from fupin.core.errors import InvalidInput
from fupin.core.models import AuditAction, Level, Region, User
from fupin.core.roles import Cap
from fupin.exchange import excel
from fupin.exchange.excel import CellError, Column, FileRejected, ImportReport, Problem

from . import services
from .models import Finance, PoorKind, Village


def _yuan(value):
    """A cell in yuan → fen, through the one money parser."""
    from fupin.policy.money import MoneyError, parse_yuan

    d = excel.decimal(2, 1_000_000_000)(value)
    try:
        return None if d is None else parse_yuan(d, "金额")
    except MoneyError as exc:
        raise CellError(exc.problem) from None


def _code(value):
    return excel.digits(12, 12, "村代码")(value)


COLUMNS = [
    Column("code", "村代码", _code, required=True, aliases=("行政区划代码", "统计用区划代码")),
    Column("name", "村名", excel.text(60), aliases=("村名称",)),
    Column("poor_kind", "贫困村类别", excel.choice(PoorKind), required=True, note="非贫困村、贫困村或重点贫困村"),
    Column("poor_since", "认定为贫困村日期", excel.date),
    Column("key_since", "列为重点贫困村日期", excel.date),
    Column("exited_on", "整村退出日期", excel.date),
    Column("households", "户数", excel.integer(0, services.NUMBER_LIMITS["households"])),
    Column("population", "户籍人口", excel.integer(0, services.NUMBER_LIMITS["population"]), aliases=("人口",)),
    Column("arable_land_mu", "耕地面积（亩）", excel.decimal(2, 10_000_000), aliases=("耕地面积",)),
    Column("road_km", "通村道路（公里）", excel.decimal(2, 100_000), aliases=("通村道路",)),
    Column("road_hardened", "道路已硬化", excel.boolean),
    Column("wells", "水井（口）", excel.integer(0, services.NUMBER_LIMITS["wells"]), aliases=("水井",)),
    Column("piped_water", "通自来水", excel.boolean),
    Column("electricity", "通动力电", excel.boolean),
    Column("broadband", "通宽带", excel.boolean),
    Column("clinic", "标准化卫生室", excel.boolean),
    Column("culture_room", "村文化室", excel.boolean),
    Column("year", "财务年度", excel.integer(1990, 2100), note="填写下面三项金额时必填"),
    Column("income", "村级收入（元）", _yuan),
    Column("collective_income", "集体经济收入（元）", _yuan),
    Column("debt", "负债（元）", _yuan),
    Column("debt_note", "负债说明", excel.text(200), note="如：修村道路工程队垫资欠款"),
]
HEADERS = [c.header for c in COLUMNS]
MONEY = ("income", "collective_income", "debt")


def import_register(user: User, data: bytes, filename: str = "") -> ImportReport:
    access.require(user, Cap.VILLAGE_MANAGE, what="导入村级档案")
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
    for row, v in table.rows:
        code = v.get("code")
        region = regions.get(code)
        if code and (region is None or region.level != Level.VILLAGE):
            bad(row, "code", code, f"村代码 {code} 不存在或不是村级区划")
            continue
        if region is not None and not access.in_scope(user, code):
            bad(row, "code", code, f"{region.name}（{code}）不在您的管辖范围内")
            continue
        if region is not None and v.get("name") and v["name"] != region.name:
            bad(row, "name", v["name"], f"与区划库中的村名“{region.name}”不一致")
        if code in seen:
            bad(row, "code", code, f"与第{seen[code]}行是同一个村")
        seen[code] = row
        values = {f: v[f] for f in services.FIELDS if f in v and v[f] not in (None, "")}
        for f in ("poor_since", "key_since", "exited_on"):
            values.setdefault(f, v.get(f))  # an empty date cell clears the date
        try:
            values = services.validate(values)
        except InvalidInput as exc:
            key_by_label = {str(services.LABELS[f]): f for f in services.FIELDS}
            for label, message in exc.errors.items():
                key = key_by_label.get(label, "poor_kind")
                bad(row, key if key in pos else "poor_kind", v.get(key), message)
        money = {k: v.get(k) for k in MONEY if v.get(k) is not None}
        if (money or v.get("debt_note")) and not v.get("year"):
            bad(row, "year", None, "填写了收入或负债，须同时填写财务年度")
        if region is not None:
            wanted.append((region, values, v.get("year"), money, v.get("debt_note") or ""))
    if problems:
        report.problems = sorted(problems, key=lambda p: (p.row or 0, p.column or ""))
        report.error_workbook = excel.error_workbook(table, report.problems)
        return report
    with transaction.atomic():
        existing = set(Village.objects.filter(region_id__in=[r.code for r, *_ in wanted]).values_list("pk", flat=True))
        for region, values, year, money, note in wanted:
            village, changed = services._save(user, region, values)
            if year and (money or note):
                f = Finance.objects.filter(village=village, year=year).first()
                full = {"income": 0, "collective_income": 0, "debt": 0, "debt_note": ""} if f is None else \
                    {k: getattr(f, k) for k in (*MONEY, "debt_note")}
                full.update(money)
                full["debt_note"] = note
                before = None if f is None else {k: getattr(f, k) for k in full}
                if before != full:
                    services._finance(user, village, year, full)
                    changed = True
            if region.code not in existing:
                report.created += 1
            elif changed:
                report.updated += 1
            else:
                report.unchanged += 1
        audit.record(user, AuditAction.IMPORT, object_type="village_register", object_id=filename[:60],
                     summary=f"导入村级档案：新增 {report.created}、更新 {report.updated}、无变化 {report.unchanged}")
    return report


def _cell(v):
    if isinstance(v, bool):
        return "是" if v else "否"
    return v


def export_register(user: User, regions) -> bytes:
    """The register of the listed villages, one row per village with its latest year's finance,
    in the import layout (so an exported file imports back unchanged)."""
    from decimal import Decimal

    from openpyxl import Workbook

    def yuan(fen):  # a number in the cell, not text (Decimal: exact)
        return Decimal(fen).scaleb(-2)

    access.require(user, Cap.EXPORT, what="导出村级档案")
    regions = list(regions)
    villages = {v.region_id: v for v in Village.objects.filter(region_id__in=[r.code for r in regions])}
    latest = {}
    for f in Finance.objects.filter(village_id__in=list(villages)).order_by("village_id", "-year"):
        latest.setdefault(f.village_id, f)
    rows = []
    for r in regions:
        v = villages.get(r.code)
        if v is None:
            continue
        f = latest.get(r.code)
        row = [r.code, r.name, v.get_poor_kind_display(), v.poor_since, v.key_since, v.exited_on]
        row += [_cell(getattr(v, k)) for k in ("households", "population", "arable_land_mu", "road_km", "road_hardened",
                                              "wells", "piped_water", "electricity", "broadband", "clinic",
                                              "culture_room")]
        row += [f.year, yuan(f.income), yuan(f.collective_income), yuan(f.debt), f.debt_note] if f else [None] * 5
        rows.append(row)
    wb = Workbook(write_only=True)
    excel.write_sheet(wb.create_sheet("村级档案"), HEADERS, rows)
    out = io.BytesIO()
    wb.save(out)
    audit.record(user, AuditAction.EXPORT, object_type="village_register", object_id=user.region_id or "",
                 summary=f"导出村级档案：{len(rows)} 个村", detail={"villages": len(rows)})
    return out.getvalue()


def template_bytes() -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    excel.write_sheet(wb.create_sheet("村级档案"), HEADERS, [])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
