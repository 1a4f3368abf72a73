"""A report upward (报表) as an Excel workbook in the official layout: the title over the whole table,
the filing unit and period, a two-row header whose groups are merged cells, a row per region and the
total, the note and the signature line. Numbers are numbers (money in yuan with two decimals, rates
as percentages), so the level above can add them up."""
from __future__ import annotations

import io
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from .excel import safe

THIN = Side(style="thin")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
CENTRE = Alignment(horizontal="center", vertical="center", wrap_text=True)


def _number(form, i: int, value):
    """(cell value, number format) of one stored cell: fen → yuan, per mille → fraction."""
    from fupin.oversight.policy import indicators

    if value is None:
        return "未报", None
    col = form.columns[i]
    if col.rate:
        return Decimal(value) / 1000, "0.0%"
    if indicators()[col.indicator].is_money:
        return Decimal(value) / 100, "#,##0.00"
    return value, "#,##0"


def report_workbook(form, region_name: str, period_label: str, filing) -> bytes:
    table = filing.table
    n = len(form.columns) + 1
    wb = Workbook()
    ws = wb.active
    ws.title = form.title[:31]
    ws.append([form.title])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=n)
    ws.cell(1, 1).font = Font(bold=True, size=16)
    ws.cell(1, 1).alignment = CENTRE
    ws.append([safe(f"填报单位：{region_name}"), *[""] * (n - 3), f"报告期：{period_label}", ""])
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=max(1, n - 2))
    ws.merge_cells(start_row=2, start_column=n - 1, end_row=2, end_column=n)
    # two header rows: "区划" spans both; each group spans its columns
    ws.cell(3, 1, "区划")
    ws.merge_cells(start_row=3, start_column=1, end_row=4, end_column=1)
    col = 2
    for name, width in form.groups:
        ws.cell(3, col, name)
        if width > 1:
            ws.merge_cells(start_row=3, start_column=col, end_row=3, end_column=col + width - 1)
        col += width
    for i, c in enumerate(form.columns):
        ws.cell(4, i + 2, c.label)
    for r in (3, 4):
        for c in range(1, n + 1):
            ws.cell(r, c).font, ws.cell(r, c).alignment, ws.cell(r, c).border = Font(bold=True), CENTRE, BOX
    row = 5
    for r in [*table["rows"], {"name": "合计", "cells": table["total"]}]:
        ws.cell(row, 1, safe(r["name"])).border = BOX
        for i, v in enumerate(r["cells"]):
            value, fmt = _number(form, i, v)
            cell = ws.cell(row, i + 2, value)
            cell.border = BOX
            if fmt:
                cell.number_format = fmt
        row += 1
    ws.cell(row - 1, 1).font = Font(bold=True)
    if form.note:
        ws.cell(row, 1, f"填表说明：{form.note}")
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=n)
        row += 1
    ws.cell(row, 1, "　　".join(f"{s}：" + "＿" * 6 for s in form.signatures))
    ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=n)
    ws.column_dimensions["A"].width = 16
    for i in range(2, n + 1):
        ws.column_dimensions[get_column_letter(i)].width = 14
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
