"""A scenario's result as an Excel workbook: the summary, the cost by fund and by region, and
every household whose yearly amount changes (head masked, as on the screen)."""
from __future__ import annotations

import io
from decimal import Decimal

import polars as pl
from openpyxl import Workbook
from openpyxl.styles import Font

from fupin.exchange.excel import safe

from . import selectors

MONEY = "#,##0.00"


def _yuan(fen: int) -> Decimal:
    return Decimal(fen) / 100


def workbook(user, scenario, result) -> tuple[bytes, int]:
    """(the workbook, how many households it lists)."""
    s = result.summary
    wb = Workbook()
    ws = wb.active
    ws.title = "汇总"
    ws.append([safe(f"政策测算：{scenario.name}")])
    ws.cell(1, 1).font = Font(bold=True, size=14)
    ws.append([safe(f"区划：{s['region']}"), f"年度：{s['year']}", f"测算时间：{result.computed_at:%Y-%m-%d %H:%M}"])
    ws.append([])
    ws.append(["项目", "现行（元）", "情景（元）", "变化（元）"])
    ws.append(["年度费用合计（不含个人自付）", _yuan(s["total_current"]), _yuan(s["total_scenario"]),
               _yuan(s["total_scenario"] - s["total_current"])])
    ws.append(["新增受益人数", s["gained"]])
    ws.append(["不再受益人数", s["lost"]])
    ws.append(["待遇有变化的户数", s["changed_households"]])
    ws.append([])
    ws.append(["资金来源", "现行（元）", "情景（元）", "变化（元）"])
    for f in s["funds"]:
        ws.append([safe(f["fund"] + ("（参考，不计入费用）" if not f["cost"] else "")), _yuan(f["current"]),
                   _yuan(f["scenario"]), _yuan(f["change"])])
    _money(ws)
    ws2 = wb.create_sheet("分区划")
    ws2.append(["区划", "现行（元）", "情景（元）", "变化（元）"])
    for r in s["regions"]:
        ws2.append([safe(r["name"]), _yuan(r["current"]), _yuan(r["scenario"]), _yuan(r["change"])])
    _money(ws2)
    ws3 = wb.create_sheet("各户变化")
    ws3.append(["户编号", "村", "户主", "户主身份证号（脱敏）", "现行（元）", "情景（元）", "变化（元）"])
    table = selectors.result_households(result).filter(pl.col("change") != 0).sort("change")
    rows = selectors.household_rows(user, table)
    for r in rows:
        ws3.append([safe(r["number"]), safe(r["village"]), safe(r["head"]), r["id_masked"], _yuan(r["current"]),
                    _yuan(r["scenario"]), _yuan(r["change"])])
    _money(ws3)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue(), len(rows)


def _money(ws) -> None:
    for row in ws.iter_rows():
        for cell in row:
            if isinstance(cell.value, Decimal):
                cell.number_format = MONEY
