"""A donation receipt in the style of a 公益事业捐赠票据: number, donor, date, what was given
(cash, or goods at their valuation), the amount in figures and in words, and its designation."""
from __future__ import annotations

import io

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from .pdf import FONT


def donation_receipt(donation, amount_in_words: str, issuer: str) -> bytes:
    from fupin.policy.money import yuan

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(A4[0], A4[1] / 2))
    w, h = A4[0], A4[1] / 2
    c.setTitle(f"捐赠票据 {donation.number}")
    c.setFont(FONT, 17)
    c.drawCentredString(w / 2, h - 20 * mm, "公益事业捐赠收据")
    c.setFont(FONT, 10)
    c.drawRightString(w - 20 * mm, h - 28 * mm, f"票据号：{donation.number}")
    c.drawString(20 * mm, h - 28 * mm, f"捐赠日期：{donation.date}")
    y = h - 40 * mm
    c.setFont(FONT, 11)
    what = "捐赠资金" if donation.kind == "cash" else f"捐赠物资：{donation.items}（估价）"
    rows = [("捐赠人", donation.donor.name), ("捐赠项目", what), ("金额（小写）", f"￥{yuan(donation.amount)} 元"),
            ("金额（大写）", amount_in_words),
            ("定向用途", f"{donation.designation.name}{'村集体帮扶资金' if donation.designation.level == 5 else '慈善扶贫统筹资金'}"),
            ("所属活动", donation.campaign.name if donation.campaign else "—")]
    for k, v in rows:
        c.drawString(25 * mm, y, f"{k}：{v}")
        y -= 8 * mm
    c.drawString(25 * mm, 18 * mm, f"收款单位（盖章）：{issuer}")
    c.drawRightString(w - 20 * mm, 18 * mm, "感谢您对扶贫事业的支持")
    c.showPage()
    c.save()
    return buf.getvalue()


def grant_notice(title: str, rows: list[dict], issuer: str, url: str = "") -> bytes:
    """公示资助对象 for the notice board: name, village, reason and amount of each student, the
    notice period and where to object; a QR code to the notice's public page. Never an ID
    number or a birth date."""
    from fupin.policy.money import yuan

    from .projects import _qr

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    w, h = A4
    c.setTitle(title)

    def header(y):
        c.setFont(FONT, 16)
        c.drawCentredString(w / 2, y, title)
        c.setFont(FONT, 10)
        y -= 12 * mm
        for label, x in (("序号", 15), ("姓名", 27), ("村", 50), ("资助理由", 88), ("金额（元）", 178)):
            c.drawString(x * mm, y, label)
        c.line(15 * mm, y - 2 * mm, w - 10 * mm, y - 2 * mm)
        return y - 7 * mm

    y = header(h - 22 * mm)
    for n, r in enumerate(rows, 1):
        reason = r["reason"] + (f"（连续资助第{r['instalment']}年）" if r["instalment"] > 1 else "")
        lines = [reason[i:i + 36] for i in range(0, len(reason), 36)] or [""]
        if y - 5 * mm * len(lines) < 40 * mm:
            c.showPage()
            y = header(h - 22 * mm)
        c.setFont(FONT, 10)
        c.drawString(15 * mm, y, str(n))
        c.drawString(27 * mm, y, r["name"])
        c.drawString(50 * mm, y, r["village"][:14])
        c.drawRightString(w - 12 * mm, y, yuan(r["amount"]))
        c.setFont(FONT, 8)
        for line in lines:
            c.drawString(88 * mm, y, line)
            y -= 5 * mm
        y -= 2 * mm
    if not rows:
        c.drawString(15 * mm, y, "（本项目本年度没有正在公示的资助对象）")
        y -= 8 * mm
    c.setFont(FONT, 10)
    periods = sorted({(r["from"], r["until"]) for r in rows})
    span = f"{periods[0][0]} 至 {periods[-1][1]}" if periods else "—"
    for line in (f"公示期：{span}。", "公示期内对以上资助对象如有异议，请以书面、电话或当面方式向县慈善会反映，",
                 "反映人可不署名；我们将逐件核查并答复。公示期满无异议的，确定为资助对象。"):
        c.drawString(15 * mm, y, line)
        y -= 6 * mm
    if url:
        _qr(c, url, 15 * mm, 12 * mm, 28 * mm)
        c.linkURL(url, (15 * mm, 12 * mm, 43 * mm, 40 * mm), relative=0)
        c.setFont(FONT, 8)
        c.drawString(46 * mm, 14 * mm, "扫码查看网上公示")
    c.setFont(FONT, 10)
    c.drawRightString(w - 15 * mm, 18 * mm, f"{issuer}（盖章）")
    c.showPage()
    c.save()
    return buf.getvalue()


def class_statement(st: dict, url: str) -> bytes:
    """A sponsored 慈善阳光班's statement for its sponsor: what was given, each grant it paid
    (students' surnames only), what is left; a QR code to the sponsor's page."""
    from fupin.policy.money import yuan

    from .projects import _qr

    cls = st["cls"]
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    w, h = A4
    title = f"{cls.name}资金使用情况"
    c.setTitle(title)
    c.setFont(FONT, 15)
    c.drawCentredString(w / 2, h - 22 * mm, title)
    c.setFont(FONT, 10)
    y = h - 34 * mm
    for line in (f"冠名捐赠方：{cls.sponsor.name if cls.sponsor else '（省、县慈善组织联合资助）'}",
                 f"学校：{cls.school.name}　入学年度：{cls.year}　受助学生：{st['students']} 人",
                 f"定向捐赠合计 {yuan(st['given'])} 元，已拨付资助 {yuan(st['spent'])} 元，结余 {yuan(st['balance'])} 元"):
        c.drawString(20 * mm, y, line)
        y -= 7 * mm
    y -= 3 * mm
    cols = (("学生", 20), ("村", 45), ("年度", 85), ("第几年", 105), ("拨付日期", 125), ("金额（元）", 165))
    for label, x in cols:
        c.drawString(x * mm, y, label)
    c.line(20 * mm, y - 2 * mm, w - 15 * mm, y - 2 * mm)
    y -= 8 * mm
    for r in st["out"]:
        if y < 60 * mm:
            c.showPage()
            c.setFont(FONT, 10)
            y = h - 25 * mm
        for (label, x), v in zip(cols, (r["name"], r["village"][:12], str(r["year"]), str(r["instalment"]),
                                        str(r["date"] or ""), yuan(r["amount"]))):
            c.drawString(x * mm, y, v)
        y -= 6 * mm
    c.drawString(20 * mm, 45 * mm, "扫描右侧二维码可随时查看本班资金使用情况。受助学生姓名只显示姓氏。")
    _qr(c, url, w - 55 * mm, 15 * mm, 35 * mm)
    c.showPage()
    c.save()
    return buf.getvalue()
