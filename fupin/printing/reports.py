"""A report upward (报表) printed: A4 landscape, the official layout (title, filing unit and period,
merged group headers, a row per region and the total, the note, the signature line)."""
from __future__ import annotations

import io

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from .pdf import FONT


def report_form(form, region_name: str, period_label: str, shown: dict, filing) -> bytes:
    """`shown` holds every cell as text (fupin.oversight.report_views._rows)."""
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=landscape(A4), leftMargin=12 * mm, rightMargin=12 * mm,
                            topMargin=12 * mm, bottomMargin=12 * mm, title=form.title)
    title = ParagraphStyle("t", fontName=FONT, fontSize=16, leading=22, alignment=1)
    body = ParagraphStyle("b", fontName=FONT, fontSize=9, leading=13)
    cell = ParagraphStyle("c", fontName=FONT, fontSize=8, leading=10, alignment=1)
    n = len(form.columns)
    group_row, spans, col = ["区划"], [("SPAN", (0, 0), (0, 1))], 1
    for name, width in form.groups:
        group_row += [name] + [""] * (width - 1)
        if width > 1:
            spans.append(("SPAN", (col, 0), (col + width - 1, 0)))
        col += width
    data = [[Paragraph(t, cell) for t in group_row],
            [""] + [Paragraph(c.label, cell) for c in form.columns]]
    for r in shown["rows"]:
        data.append([Paragraph(r["name"], cell)] + [c if c != "" else "未报" for c in r["cells"]])
    data.append([Paragraph("合计", cell)] + shown["total"])
    width = doc.width
    first = 30 * mm
    table = Table(data, colWidths=[first] + [(width - first) / n] * n, repeatRows=2)
    table.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), FONT, 8), ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                               ("ALIGN", (1, 2), (-1, -1), "RIGHT"), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                               ("BACKGROUND", (0, 0), (-1, 1), colors.HexColor("#eeeeee")), *spans]))
    state = filing.get_state_display()
    story = [Paragraph(form.title, title), Spacer(1, 3 * mm),
             Paragraph(f"填报单位：{region_name}　　　报告期：{period_label}　　　状态：{state}", body), Spacer(1, 2 * mm),
             table, Spacer(1, 3 * mm)]
    if form.note:
        story.append(Paragraph(f"填表说明：{form.note}", body))
    story.append(Spacer(1, 6 * mm))
    story.append(Paragraph("　　　".join(f"{s}：＿＿＿＿＿＿" for s in form.signatures), body))
    doc.build(story)
    return buf.getvalue()
