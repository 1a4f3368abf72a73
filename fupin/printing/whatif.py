"""A policy what-if's one-page brief for a meeting (A4 portrait): what changes, what it costs by
fund and by region, who gains and loses, how households' yearly amounts move (a bar chart), and
the households most affected (head's ID masked). Longer tables are cut to fit the one page; the
Excel export has them whole."""
from __future__ import annotations

import io

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from fupin.policy.money import yuan

from .pdf import FONT

ROWS = 8   # rows of each table on the page


def _y(fen: int) -> str:
    return yuan(fen, grouping=True)


def _signed(fen: int) -> str:
    return ("+" if fen > 0 else "") + yuan(fen, grouping=True)


def _table(data, widths, money_from: int = 1):
    t = Table(data, colWidths=widths)
    t.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), FONT, 8), ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                           ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
                           ("ALIGN", (money_from, 1), (-1, -1), "RIGHT"), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                           ("TOPPADDING", (0, 0), (-1, -1), 1.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5)]))
    return t


def _chart(histogram: list[dict], width: float) -> Drawing:
    d = Drawing(width, 42 * mm)
    bars = VerticalBarChart()
    bars.x, bars.y, bars.width, bars.height = 10 * mm, 10 * mm, width - 14 * mm, 28 * mm
    bars.data = [[b["count"] for b in histogram] or [0]]
    bars.categoryAxis.categoryNames = [b["label"] for b in histogram] or [""]
    bars.categoryAxis.labels.fontName = FONT
    bars.categoryAxis.labels.fontSize = 6
    bars.valueAxis.labels.fontSize = 6
    bars.valueAxis.valueMin = 0
    bars.bars[0].fillColor = colors.HexColor("#b71c1c")
    d.add(bars)
    return d


def brief(scenario, result, params: list[dict], top: list[dict]) -> bytes:
    """`params`: label, current, scenario (as a pack writes them), unit; `top`: the households
    most affected as the user may see them (fupin.whatif.selectors.household_rows)."""
    s = result.summary
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=14 * mm, rightMargin=14 * mm, topMargin=12 * mm,
                            bottomMargin=10 * mm, title=f"政策测算简报：{scenario.name}")
    title = ParagraphStyle("t", fontName=FONT, fontSize=15, leading=20, alignment=1)
    head = ParagraphStyle("h", fontName=FONT, fontSize=10, leading=14, spaceBefore=3)
    body = ParagraphStyle("b", fontName=FONT, fontSize=8.5, leading=12)
    w = doc.width
    unit = {"yuan": "元", "ratio": "", "count": "", "bool": ""}
    change = s["total_scenario"] - s["total_current"]
    story = [Paragraph(f"政策测算简报：{scenario.name}", title),
             Paragraph(f"{s['region']}　{s['year']}年　测算于 {result.computed_at:%Y-%m-%d %H:%M}　"
                       f"（测算结果，尚未生效；不写入账簿和户籍库）", body), Spacer(1, 2 * mm),
             Paragraph("一、改动的参数", head),
             _table([["参数", "现行", "情景"]] + [[Paragraph(p["label"], body), f"{p['current']}{unit.get(p['unit'], '')}",
                                                  f"{p['scenario']}{unit.get(p['unit'], '')}"] for p in params[:ROWS]],
                    [w * 0.6, w * 0.2, w * 0.2]),
             Paragraph("二、结果", head),
             Paragraph(f"年度费用（不含个人自付）由 {_y(s['total_current'])} 元变为 {_y(s['total_scenario'])} 元，"
                       f"变化 {_signed(change)} 元；计算 {s['cases']} 项待遇，涉及 {s['persons']} 人、{s['households']} 户，"
                       f"其中 {s['changed_households']} 户待遇有变化；新增受益 {s['gained']} 人，不再受益 {s['lost']} 人。", body)]
    funds = [f for f in s["funds"] if f["current"] or f["scenario"]]
    funds.sort(key=lambda f: -abs(f["change"]))
    story += [Paragraph("三、按资金来源（变化最大的在前）", head),
              _table([["资金来源", "现行（元）", "情景（元）", "变化（元）"]]
                     + [[f["fund"] + ("（参考）" if not f["cost"] else ""), _y(f["current"]), _y(f["scenario"]),
                         _signed(f["change"])] for f in funds[:ROWS]], [w * 0.4, w * 0.2, w * 0.2, w * 0.2])]
    regions = sorted(s["regions"], key=lambda r: -abs(r["change"]))
    story += [Paragraph("四、按区划（变化最大的在前）", head),
              _table([["区划", "现行（元）", "情景（元）", "变化（元）"]]
                     + [[r["name"], _y(r["current"]), _y(r["scenario"]), _signed(r["change"])] for r in regions[:ROWS]],
                     [w * 0.4, w * 0.2, w * 0.2, w * 0.2]),
              Paragraph("五、各户年度待遇变化分布（户数）", head), _chart(s["histogram"], w),
              Paragraph("六、变化最大的户", head),
              _table([["户编号", "村", "户主", "身份证号", "变化（元）"]]
                     + [[h["number"], h["village"], h["head"], h["id_masked"], _signed(h["change"])] for h in top[:ROWS]],
                     [w * 0.18, w * 0.2, w * 0.16, w * 0.28, w * 0.18], money_from=4)]
    doc.build(story)
    return buf.getvalue()
