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
