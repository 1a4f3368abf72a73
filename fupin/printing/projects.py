"""The project's public notice for the village board (公示上墙): A4, what is built, where, by
whom, when, the budget by funding source and what has been paid, how many households benefit
(no names, no ID numbers), and a QR code to the public page."""
from __future__ import annotations

import io

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from .pdf import FONT


def _qr(c, url: str, x: float, y: float, size: float) -> None:
    from reportlab.graphics import renderPDF
    from reportlab.graphics.barcode.qr import QrCodeWidget
    from reportlab.graphics.shapes import Drawing

    qr = QrCodeWidget(url)
    b = qr.getBounds()
    d = Drawing(size, size, transform=[size / (b[2] - b[0]), 0, 0, size / (b[3] - b[1]), 0, 0])
    d.add(qr)
    renderPDF.draw(d, c, x, y)


def _lines(text: str, width: int) -> list[str]:
    return [text[i:i + width] for i in range(0, len(text), width)] or [""]


def project_notice(view: dict, url: str) -> bytes:
    """`view` is `projects.selectors.public_view(project)`."""
    from fupin.policy.money import yuan

    p, money = view["project"], view["money"]
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    w, h = A4
    title = f"扶贫项目公示：{p.name}"
    c.setTitle(title)
    c.setFont(FONT, 17)
    c.drawCentredString(w / 2, h - 25 * mm, title)
    c.setFont(FONT, 11)
    y = h - 40 * mm
    rows = [("项目编号", p.number), ("实施地点", view["place"]), ("项目类别", p.get_category_display()),
            ("实施单位", p.implementer), ("建设期限", f"{p.start} 至 {p.end}"), ("项目状态", p.get_state_display()),
            ("受益户数", f"{view['households']} 户")]
    for k, v in rows:
        c.drawString(20 * mm, y, f"{k}：{v}")
        y -= 7 * mm
    for i, line in enumerate(_lines(f"建设内容：{p.content}", 40)):
        c.drawString(20 * mm, y, line)
        y -= 7 * mm
    y -= 3 * mm
    cols = [("资金来源", 20), ("计划（元）", 70), ("已拨付（元）", 110), ("已支付（元）", 150)]
    for label, x in cols:
        c.drawString(x * mm, y, label)
    c.line(20 * mm, y - 2 * mm, w - 15 * mm, y - 2 * mm)
    y -= 9 * mm
    for r in money["rows"] + [dict(money["total"], label="合计")]:
        for (label, x), v in zip(cols, [r["label"], yuan(r["plan"]), yuan(r["allocated"]), yuan(r["paid"])]):
            c.drawString(x * mm, y, v)
        y -= 8 * mm
    c.setFont(FONT, 10)
    y -= 4 * mm
    for line in ("公示期内，对项目建设内容、资金安排和受益对象如有异议，请向村委会、乡镇人民政府或县扶贫开发领导小组",
                 "办公室反映，也可扫描右下角二维码查看项目进展。"):
        c.drawString(20 * mm, y, line)
        y -= 6 * mm
    _qr(c, url, w - 55 * mm, 20 * mm, 35 * mm)
    c.setFont(FONT, 9)
    c.drawString(20 * mm, 25 * mm, f"项目编号：{p.number}")
    c.showPage()
    c.save()
    return buf.getvalue()


def allocation_notice(title: str, rows: list[dict], totals: list[dict], url: str = "") -> bytes:
    """资金公告公示: each project of the year with its place and the money allocated to it by
    source, then the totals per source (no personal data), and a QR code to the public page."""
    from fupin.policy.money import yuan

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    w, h = A4
    c.setTitle(title)

    def header(y):
        c.setFont(FONT, 16)
        c.drawCentredString(w / 2, y, title)
        c.setFont(FONT, 9)
        y -= 12 * mm
        for label, x in (("项目", 15), ("实施地点", 85), ("资金来源", 120), ("计划（元）", 148), ("已拨付（元）", 175)):
            c.drawString(x * mm, y, label)
        c.line(15 * mm, y - 2 * mm, w - 10 * mm, y - 2 * mm)
        return y - 7 * mm

    y = header(h - 20 * mm)
    for r in rows:
        for k, m in enumerate(r["money"]):
            if y < 25 * mm:
                c.showPage()
                y = header(h - 20 * mm)
            if k == 0:
                c.drawString(15 * mm, y, r["name"][:22])
                c.drawString(85 * mm, y, r["place"][:10])
            c.drawString(120 * mm, y, m["label"])
            c.drawRightString(170 * mm, y, yuan(m["plan"]))
            c.drawRightString(w - 12 * mm, y, yuan(m["allocated"]))
            y -= 6 * mm
    y -= 4 * mm
    c.setFont(FONT, 11)
    for t in totals:
        if y < 25 * mm:
            c.showPage()
            y = h - 25 * mm
            c.setFont(FONT, 11)
        c.drawString(15 * mm, y, f"{t['label']}：计划 {yuan(t['plan'])} 元，已拨付 {yuan(t['allocated'])} 元，已支付 {yuan(t['paid'])} 元")
        y -= 7 * mm
    if url:
        if y < 60 * mm:
            c.showPage()
        c.setFont(FONT, 10)
        c.drawString(15 * mm, 40 * mm, "对资金安排如有异议，请向县扶贫开发领导小组办公室反映；")
        c.drawString(15 * mm, 34 * mm, "扫描右侧二维码可随时查看本公告及项目资金拨付进度。")
        _qr(c, url, w - 50 * mm, 15 * mm, 35 * mm)
    c.showPage()
    c.save()
    return buf.getvalue()
