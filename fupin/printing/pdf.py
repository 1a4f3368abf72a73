"""Printed forms as PDF (A4, Chinese). One function per form."""
from __future__ import annotations

import io

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

FONT = "STSong-Light"  # a standard Adobe CJK font: every PDF reader has it or a substitute
pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def settlement_slip(claim, labels: dict, amount_in_words: str, masked_id: str) -> bytes:
    """结算单: each payer's line, the patient's amount in figures and in words; times in Beijing time
    (the server keeps UTC), the policy by its region's name."""
    from django.utils import timezone

    from fupin.policy.explain import pack_title
    from fupin.policy.money import yuan
    from fupin.policy.rules.health import CATEGORY_LABELS, LEVEL_LABELS, VISIT_LABELS

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.setTitle(f"结算单 {claim.number}")
    w, h = A4
    y = h - 25 * mm
    c.setFont(FONT, 18)
    c.drawCentredString(w / 2, y, "医疗费用一站式结算单")
    c.setFont(FONT, 10)
    y -= 10 * mm
    rows = [("医疗机构", claim.hospital.name), ("流水号", claim.number), ("患者", claim.person.name),
            ("身份证号", masked_id), ("对象类别", "、".join(CATEGORY_LABELS[x] for x in claim.categories) or "无"),
            ("就诊类型", f"{LEVEL_LABELS.get(claim.level, claim.level)}{VISIT_LABELS.get(claim.visit_type, claim.visit_type)}"
                         f"{'（县域内）' if claim.in_county else '（县域外）'}"),
            ("出院日期", claim.discharge_date.isoformat()), ("适用政策", pack_title(claim.pack))]
    for k, v in rows:
        c.drawString(25 * mm, y, f"{k}：{v}")
        y -= 6.5 * mm
    y -= 3 * mm
    c.setFont(FONT, 12)

    def row(label, amount):
        nonlocal y
        c.drawString(25 * mm, y, label)
        c.drawRightString(w - 25 * mm, y, yuan(amount))
        y -= 7 * mm

    def rule():
        # between the row above (baseline y + 7 mm, glyphs down to about y + 6 mm) and the next
        # row, whose 12-point glyphs reach about 4.2 mm above its baseline: the rule sits in the gap
        # and the next row moves down, so a rule never strikes through a line of text
        nonlocal y
        y -= 4 * mm
        c.line(25 * mm, y + 6.5 * mm, w - 25 * mm, y + 6.5 * mm)

    c.drawString(25 * mm, y, "费用构成")
    c.drawRightString(w - 25 * mm, y, "金额（元）")
    y -= 7 * mm
    rule()
    for label, amount in [("医疗总费用", claim.total), ("其中：目录内费用", claim.in_policy),
                          ("目录外费用", claim.total - claim.in_policy)]:
        row(label, amount)
    rule()
    for code, amount in claim.breakdown.items():
        if code in ("health.patient", "health.shortfall"):
            continue
        row(labels.get(code, code), amount)
    rule()
    c.setFont(FONT, 14)
    c.drawString(25 * mm, y, "个人自付")
    c.drawRightString(w - 25 * mm, y, yuan(claim.patient))
    y -= 9 * mm
    c.setFont(FONT, 12)
    c.drawString(25 * mm, y, f"个人自付（大写）：{amount_in_words}")
    y -= 8 * mm
    if claim.shortfall:
        c.drawString(25 * mm, y, f"注：兜底资金余额不足，未支付 {yuan(claim.shortfall)} 元，已计入个人自付并上报。")
        y -= 8 * mm
    c.setFont(FONT, 10)
    c.drawString(25 * mm, 30 * mm, "经办人：________________    患者（家属）签字：________________")
    c.drawString(25 * mm, 22 * mm, f"结算时间：{timezone.localtime(claim.settled_at):%Y-%m-%d %H:%M}（北京时间）    状态：{claim.get_status_display()}")
    c.showPage()
    c.save()
    return buf.getvalue()


def service_certificate(member, result: dict) -> bytes:
    """《医生到农村医疗卫生机构服务鉴定表》 for a rotation whose assessment grants it."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    w, h = A4
    d = member.dispatch
    c.setTitle("医生到农村医疗卫生机构服务鉴定表")
    c.setFont(FONT, 18)
    c.drawCentredString(w / 2, h - 25 * mm, "医生到农村医疗卫生机构服务鉴定表")
    c.setFont(FONT, 11)
    y = h - 40 * mm
    rows = [("姓名", member.staff.name), ("职称", member.staff.get_title_display()),
            ("派出单位", f"{d.department.hospital.name} {d.department.name}"), ("服务单位", d.supported.name),
            ("服务期间", f"{d.handover} 至 {d.end}")]
    rows += [(i["label"], ("合格　" if i["passed"] else "不合格　") + i["reason"]) for i in result["items"]]
    rows += [("鉴定意见", result["certificate_reason"])]
    for k, v in rows:
        c.drawString(25 * mm, y, f"{k}：{v}")
        y -= 9 * mm
    c.drawString(25 * mm, 45 * mm, "受援医院（盖章）：________________")
    c.drawString(25 * mm, 35 * mm, "负责人签字：________________　　日期：________________")
    c.showPage()
    c.save()
    return buf.getvalue()


def public_notice(notice, url: str) -> bytes:
    """公示 / 公告 for the village board: A4, the notice period, each row's name, village and reason
    (nothing else: no ID number, not even masked), and a QR code to the public page."""
    from reportlab.graphics import renderPDF
    from reportlab.graphics.barcode.qr import QrCodeWidget
    from reportlab.graphics.shapes import Drawing

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    w, h = A4
    c.setTitle(notice.title)
    c.setFont(FONT, 18)
    c.drawCentredString(w / 2, h - 25 * mm, notice.title)
    c.setFont(FONT, 11)
    c.drawString(20 * mm, h - 38 * mm, f"公示期：{notice.start} 至 {notice.end}。对公示内容如有异议，请在公示期内向村委会、")
    c.drawString(20 * mm, h - 44 * mm, "乡镇人民政府反映，或扫描右下角二维码在网上提出。")
    y = h - 58 * mm
    # what public-notice rules allow (issue 11): name, village, reason — no ID number (not even
    # masked), no birth date, nothing else of the household
    cols = [("户主", 20), ("所在村", 60), ("事项/原因", 105)]
    for label, x in cols:
        c.drawString(x * mm, y, label)
    c.line(20 * mm, y - 2 * mm, w - 15 * mm, y - 2 * mm)
    y -= 9 * mm
    for row in notice.content:
        # "（）", not "·": U+00B7 has no glyph in STSong-Light's Unicode map and printed as ☒
        values = [row["name"], row["village"], f"{row['matter']}（{row['reason']}）"]
        for (label, x), v in zip(cols, values):
            c.drawString(x * mm, y, v)
        y -= 8 * mm
    qr = QrCodeWidget(url)
    b = qr.getBounds()
    size = 35 * mm
    d = Drawing(size, size, transform=[size / (b[2] - b[0]), 0, 0, size / (b[3] - b[1]), 0, 0])
    d.add(qr)
    renderPDF.draw(d, c, w - 20 * mm - size, 20 * mm)
    c.setFont(FONT, 9)
    c.drawString(20 * mm, 25 * mm, f"公示编号：{notice.token}")
    c.showPage()
    c.save()
    return buf.getvalue()


def four_cards(cards: list[dict]) -> bytes:
    """四卡: basic information, policies understood, assistance record, income and benefits —
    four A4 pages per household, one file for one household or a whole village."""
    from fupin.policy.labels import entitlement
    from fupin.policy.money import yuan

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    w, h = A4
    c.setTitle("四卡")

    def page(title, d):
        c.setFont(FONT, 16)
        c.drawCentredString(w / 2, h - 22 * mm, title)
        c.setFont(FONT, 10)
        hh = d["household"]
        c.drawString(20 * mm, h - 30 * mm, f"户编号 {hh.number}　户主 {d['head'].name if d['head'] else ''}　{hh.village.name}　{d['year']}年")
        return h - 40 * mm

    def line(y, text, size=10):
        c.setFont(FONT, size)
        c.drawString(20 * mm, y, text[:60])
        return y - 7 * mm

    for d in cards:
        hh = d["household"]
        y = page("贫困户基本信息卡", d)
        y = line(y, f"贫困户属性：{hh.get_attribute_display()}　状态：{hh.get_status_display()}　主要致贫原因：{hh.get_main_cause_display()}")
        y = line(y, f"家庭人口：{len(d['members'])} 人　住房：{hh.get_housing_grade_display() or '未核'}　联系电话：{d['phone']}")
        for m in d["members"]:
            y = line(y, f"{m.name}　{m.get_relation_display()}　{d['masked'][m.pk]}　{m.get_health_display()}　{m.get_labour_display()}")
        c.showPage()
        y = page("脱贫政策明白卡", d)
        # numbered, not "·" bullets: U+00B7 has no glyph in STSong-Light and printed as ☒
        for n, (text, amount) in enumerate(d["policies"] or [("本年度暂无计算出的政策待遇", None)], 1):
            y = line(y, f"{n}、{text}" + (f"：{yuan(amount)} 元" if amount is not None else ""))
        c.showPage()
        y = page("帮扶工作记录卡", d)
        p = d["pair"]
        y = line(y, f"帮扶责任人：{p.helper.name}（{p.helper.unit.name}），结对期至 {p.locked_until}" if p else "帮扶责任人：未结对")
        y = line(y, f"走访 {len(d['visits'])} 次；帮扶措施 {len(d['measures'])} 项，投入 {yuan(d['measures_total'])} 元")
        for v in d["visits"][:12]:
            y = line(y, f"{v.date} 走访：{v.done}")
        for m in d["measures"][:12]:
            y = line(y, f"{m.date} 措施（{m.kind_label}）：{m.description} {yuan(m.money)} 元")
        c.showPage()
        y = page("贫困户收益卡", d)
        inc = d["income"]
        if inc:
            y = line(y, f"{inc.year}年家庭纯收入 {yuan(inc.net)} 元，人均纯收入 {yuan(inc.per_capita)} 元")
            y = line(y, f"其中工资性 {yuan(inc.wages)}、经营性 {yuan(inc.business)}、转移性 {yuan(inc.transfers)}、财产性 {yuan(inc.property_income)} 元")
        else:
            y = line(y, "尚未登记收入")
        lab = d.get("labour")
        if lab and lab["workers"]:
            y = line(y, f"{d['year']}年劳动力 {lab['workers']} 人，就业 {lab['employed']} 人，务工收入 {yuan(lab['income'])} 元")
        for e in d.get("training", [])[:8]:
            done = f"，已结业（证书 {e.certificate}）" if e.completed_on else ""
            y = line(y, f"培训：{e.person.name} {e.course.name} 出勤 {e.attended}/{e.course.sessions}{done}")
        for s in d.get("college", [])[:4]:
            y = line(y, f"大学生：{s.person.name} {s.college} {s.get_level_display()} {s.entry_year}级 {s.get_outcome_display()}")
            for a in s.aid.all()[:4]:
                y = line(y, f"　{a.year}学年{a.get_kind_display()} {yuan(a.amount)} 元")
        y = line(y, f"本年已到账的各项补助合计 {yuan(d['payments_total'])} 元" + ("：" if d["payments"] else "（明白卡所列为应享待遇）"))
        for e in d["payments"][:20]:
            y = line(y, f"{e.transaction.date}　{e.account.payee_name}　{getattr(e, 'label', '') or entitlement(e.entitlement) or e.transaction.memo}　{yuan(e.amount)} 元")
        c.showPage()
    c.save()
    return buf.getvalue()
