"""Printed forms rendered to images (Debian poppler: pdftotext, pdftoppm; see ADR 0002): times in
Beijing time, no missing glyph (☒), rules that never strike through a line of text (issue 13 §5)."""
import datetime as dt
import shutil
import subprocess

import pytest
from PIL import Image

from fupin.core import idcard
from fupin.core.money import amount_in_words
from fupin.printing import pdf

pytestmark = [pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="Debian poppler-utils is not installed"),
              pytest.mark.usefixtures("on_a_covered_day")]   # prints notices of workflows started today


def pdf_text(data: bytes, tmp_path) -> str:
    """The text a reader gets out of the PDF: a glyph the font lacks (printed as ☒) is missing here."""
    path = tmp_path / "form.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def render(data: bytes, tmp_path, dpi: int = 100) -> Image.Image:
    path = tmp_path / "render.pdf"
    path.write_bytes(data)
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", "-singlefile", str(path), str(tmp_path / "page")], check=True)
    return Image.open(tmp_path / "page.png").convert("L")


def rules_and_their_margins(img: Image.Image, left: int, right: int) -> list[tuple[int, int, int]]:
    """Each horizontal rule (rows dark across 90% of [left, right]) as (first row, last row, the
    number of dark pixels in the two rows just above and the two just below it)."""
    px = img.load()
    dark = [sum(px[x, y] < 128 for x in range(left, right)) for y in range(img.height)]
    rows = [y for y in range(img.height) if dark[y] > 0.9 * (right - left)]
    groups = []
    for y in rows:
        if groups and y == groups[-1][1] + 1:
            groups[-1][1] = y
        else:
            groups.append([y, y])
    return [(a, b, sum(dark[a - 2:a]) + sum(dark[b + 1:b + 3])) for a, b in groups]


def test_slip_prints_beijing_time_the_policy_by_name_and_rules_clear_of_the_waiver_row(db, tmp_path):
    from fupin.health import services
    from fupin.health.models import Claim

    from .test_health import BILL_1, build_shili
    hospital, patient, window, fund = build_shili()
    claim = services.settle(user=window, hospital=hospital, person=patient, number="Z1", bill=BILL_1)
    # settled at 02:30 UTC, which is 10:30 in Beijing
    Claim.objects.filter(pk=claim.pk).update(settled_at=dt.datetime(2024, 6, 1, 2, 30, tzinfo=dt.timezone.utc))
    claim.refresh_from_db()
    data = pdf.settlement_slip(claim, claim.explanation["_labels"], amount_in_words(claim.patient),
                               idcard.mask(patient.id_number))
    text = pdf_text(data, tmp_path)
    assert "结算时间：2024-06-01 10:30（北京时间）" in text
    assert "适用政策：示例省 2024" in text and "shili" not in text
    lines = [" ".join(line.split()) for line in text.splitlines()]
    assert "减免 200.00" in lines and "个人自付 9980.00" in lines
    img = render(data, tmp_path)
    assert (img.width, img.height) == (827, 1170)   # A4 at 100 dpi
    mm = 100 / 25.4
    rules = rules_and_their_margins(img, int(26 * mm), int(img.width - 26 * mm))
    assert len(rules) == 3                           # under the heading, under the bill, under the payers
    assert [touching for _, _, touching in rules] == [0, 0, 0]   # blank rows on both sides of each rule


def test_a_rule_through_text_is_caught_by_the_pixel_check(tmp_path):
    """The check above can fail: a line drawn through a row of text has dark pixels beside it."""
    import io

    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.setFont(pdf.FONT, 12)
    c.drawString(25 * mm, 200 * mm, "减免" * 20)
    c.line(25 * mm, 201.5 * mm, A4[0] - 25 * mm, 201.5 * mm)
    c.showPage()
    c.save()
    img = render(buf.getvalue(), tmp_path)
    [(_, _, touching)] = rules_and_their_margins(img, int(26 * 100 / 25.4), int(img.width - 26 * 100 / 25.4))
    assert touching > 20


def test_notice_pdf_has_every_character_it_prints(world, tmp_path):
    from fupin.workflows import services as wf
    from fupin.workflows.models import Notice

    from .test_workflows import new_applicant
    village = world.users["village_cadre"]
    inst = wf.start(actor=village, household=new_applicant(world), kind="identification")
    for key in ("application", "appraisal", "village_verification"):
        wf.act(actor=village, instance_id=inst.pk, step_key=key, decision="approve")
    notice = Notice.objects.get()
    text = pdf_text(pdf.public_notice(notice, "https://example.org/public/notices/x/"), tmp_path)
    flat = [" ".join(line.split()) for line in text.splitlines()]
    row = notice.content[0]
    # the matter and its reason, every character drawn (the old "·" between them printed as ☒)
    assert f"{row['name']} {row['village']} {row['matter']}（{row['reason']}）" in flat
    assert notice.title in text
