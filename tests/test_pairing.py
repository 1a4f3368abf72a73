"""Pairing rules and the term lock, visits (idempotent, photos), measures, compliance at the
boundaries, and the four cards rendered to images."""
import datetime as dt
import re
import io
import subprocess

import pytest
from django.utils import timezone

from fupin.pairing import services
from fupin.pairing.models import Helper, Measure, Pair, Survey, Team, TeamDay, TeamMember, Unit, Visit
from fupin.core.errors import FupinError

from .conftest import T1, V1


@pytest.fixture
def units(world):
    officer = world.users["county_officer"]
    unit = Unit.objects.create(name="县教育局", region_id="513435000000")
    leader = Helper.objects.create(unit=unit, name="局长", kind="leader")
    staff = Helper.objects.create(unit=unit, name="干部甲", kind="staff", user=world.users["pairing_helper"])
    exempt = Helper.objects.create(unit=unit, name="老干部", kind="exempt")
    spare = Helper.objects.create(unit=unit, name="干部乙", kind="staff")
    return dict(officer=officer, leader=leader, staff=staff, exempt=exempt, spare=spare)


START = dt.date(2024, 1, 2)


def test_leaders_pair_two_others_one_exempt_none(world, units):
    o = units["officer"]
    services.pair(actor=o, helper=units["leader"], household=world.h1, start=START)
    services.pair(actor=o, helper=units["leader"], household=world.h4, start=START)
    with pytest.raises(FupinError) as exc:
        services.pair(actor=o, helper=units["leader"], household=world.h2, start=START)
    assert exc.value.message == "局长（领导干部）按规定结对 2 户，已结对 2 户"
    with pytest.raises(FupinError) as exc:
        services.pair(actor=o, helper=units["exempt"], household=world.h2, start=START)
    assert exc.value.message == "老干部（免于结对）按规定结对 0 户，已结对 0 户"
    with pytest.raises(FupinError) as exc:
        services.pair(actor=o, helper=units["staff"], household=world.h1, start=START)
    assert exc.value.message == "户 H1 已由 局长 结对帮扶"
    assert Pair.objects.get(household=world.h1).locked_until == dt.date(2027, 1, 2)


def test_term_lock_exceptions_and_replacement(world, units):
    o = units["officer"]
    pr = services.pair(actor=o, helper=units["staff"], household=world.h1, start=START)
    with pytest.raises(FupinError) as exc:
        services.unpair(actor=o, pair_obj=pr, on=dt.date(2025, 1, 1), reason="busy")
    assert exc.value.message.startswith("户 H1 尚未脱贫或结对未满期（至 2027-01-02），只有帮扶责任人退休、调动、死亡时才能解除")
    with pytest.raises(FupinError) as exc:
        services.unpair(actor=o, pair_obj=pr, on=dt.date(2025, 1, 1), reason="retired")
    assert exc.value.message == "解除结对须同时指定接替的帮扶责任人"
    assert Pair.objects.get(pk=pr.pk).ended_on is None
    new = services.unpair(actor=o, pair_obj=pr, on=dt.date(2025, 1, 1), reason="retired", replacement=units["spare"])
    assert (new.helper.name, Pair.objects.get(pk=pr.pk).replaced_by_id) == ("干部乙", new.pk)


def _jpeg_with_gps() -> bytes:
    from PIL import Image
    img = Image.new("RGB", (3000, 2000), (200, 120, 40))
    exif = Image.Exif()
    gps = {1: "N", 2: (28.0, 57.0, 36.0), 3: "E", 4: (102.0, 46.0, 12.0)}
    exif[0x8825] = gps
    out = io.BytesIO()
    img.save(out, "JPEG", quality=95, exif=exif.tobytes())
    return out.getvalue()


def test_visit_is_idempotent_and_photos_are_compressed_with_location(world, units):
    services.pair(actor=units["officer"], helper=units["staff"], household=world.h1, start=START)
    helper_user = world.users["pairing_helper"]
    photo = _jpeg_with_gps()
    v1 = services.visit_record(actor=helper_user, household=world.h1, date=dt.date(2024, 3, 1), minutes=90,
                               done="了解春耕准备", photos=[photo], client_token="tok-1")
    v2 = services.visit_record(actor=helper_user, household=world.h1, date=dt.date(2024, 3, 1), minutes=90,
                               done="了解春耕准备", photos=[photo], client_token="tok-1")
    assert (v1.pk, Visit.objects.count()) == (v2.pk, 1)
    p = v1.photos.get()
    assert p.bytes < len(photo) // 3
    assert (round(float(p.latitude), 2), round(float(p.longitude), 2)) == (28.96, 102.77)
    with pytest.raises(FupinError) as exc:
        services.visit_record(actor=helper_user, household=world.h2, date=dt.date(2024, 3, 1), minutes=30, done="x",
                              client_token="tok-2")
    assert exc.value.message == "户 H2 不是您结对帮扶的户"


@pytest.mark.parametrize("days, measures, helper_ok, household_ok", [(15, 4, True, True), (14, 3, False, False)])
def test_compliance_boundaries(world, units, days, measures, helper_ok, household_ok):
    services.pair(actor=units["officer"], helper=units["staff"], household=world.h1, start=START)
    h = units["staff"]
    for i in range(days):
        Visit.objects.create(helper=h, household=world.h1, date=dt.date(2024, 2, 1) + dt.timedelta(days=i), minutes=60,
                             done="走访", client_token=f"t{i}")
    for i in range(measures):
        Measure.objects.create(helper=h, household=world.h1, kind="industry", money=50_000, date=dt.date(2024, 3, 1 + i),
                               description="产业扶持")
    d = services.compliance(world.users["county_officer"], T1, 2024)
    [row] = d["helpers"]
    assert (row["days"], row["ok"]) == (days, helper_ok)
    assert [r["ok"] for r in d["households"]] == [household_ok]
    if not helper_ok:
        assert row["shortfalls"] == ["在村入户 14 天，少于 15 天", "户 H1 投入 1500.00 元，少于 2000.00 元"]


def test_team_days_and_surveys(world):
    team = Team.objects.create(name="桃源村工作队", village_id=V1)
    m = TeamMember.objects.create(team=team, name="队员甲")
    for i in range(220):
        TeamDay.objects.create(member=m, date=dt.date(2024, 1, 1) + dt.timedelta(days=i))
    for month in range(1, 13):
        for k in range(2 if month != 5 else 1):
            Survey.objects.create(team=team, household=world.h1, date=dt.date(2024, month, 10 + k))
    d = services.compliance(world.users["county_officer"], T1, 2024)
    [t] = d["teams"]
    assert (t["members"][0]["days"], t["members"][0]["ok"], t["short_months"]) == (220, True, [5])


def test_four_cards_rendered_with_key_figures(world, units, login, tmp_path):
    from fupin.registry import services as reg
    o = units["officer"]
    services.pair(actor=o, helper=units["staff"], household=world.h1, start=START)
    reg.income_record(actor=o, household=world.h1, year=2025, wages=1_200_000, business=300_000, transfers=60_000,
                      property_income=0, costs=60_000, recorded_on=dt.date(2026, 1, 10))
    year = timezone.localdate().year
    Measure.objects.create(helper=units["staff"], household=world.h1, kind="industry", money=300_000,
                           date=dt.date(year, 3, 1), description="发放核桃苗300株")
    c = login("county_officer")
    pdf = c.get(f"/pairing/cards/{world.h1.pk}.pdf").content
    path = tmp_path / "cards.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    for needle in ("贫困户基本信息卡", "脱贫政策明白卡", "帮扶工作记录卡", "贫困户收益卡", "户编号 H1", "张三",
                   "干部甲（县教育局）", "措施（产业）：发放核桃苗300株 3000.00 元",
                   "2025年家庭纯收入 15000.00 元，人均纯收入 5000.00 元",
                   "本年已到账的各项补助合计 0.00 元（明白卡所列为应享待遇）"):
        assert needle in text, needle
    # the head first, as the household page lists them; policies numbered (a "·" printed as ☒); no codes
    assert text.index("张三") < text.index("李四") < text.index("张小")
    assert "1、" in text and "·" not in text and not re.search(r"[a-z]{3,}", text)
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(path), str(tmp_path / "card")], check=True)
    from PIL import Image
    pages = sorted(tmp_path.glob("card-*.png"))
    assert len(pages) == 4
    for page in pages:
        img = Image.open(page).convert("L")
        assert sum(img.histogram()[:128]) > 100  # each card has its text drawn
    village = c.get(f"/pairing/cards/{V1}.pdf").content
    (tmp_path / "village.pdf").write_bytes(village)
    info = subprocess.run(["pdfinfo", str(tmp_path / "village.pdf")], capture_output=True, text=True, check=True).stdout
    assert re.search(r"Pages:\s+(\d+)", info).group(1) == "4"  # V1 has one household: its four cards


def test_compliance_export_layout(world, units, login):
    from openpyxl import load_workbook
    services.pair(actor=units["officer"], helper=units["staff"], household=world.h1, start=START)
    r = login("county_officer").get(f"/pairing/compliance/?region={T1}&year=2024&format=xlsx")
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == ["帮扶责任人", "驻村工作队"]
    rows = list(wb["帮扶责任人"].values)
    assert rows[0] == ("单位", "帮扶责任人", "在村入户天数", "结对户", "投入资金（元）", "帮扶措施（项）", "是否达标", "差距")
    assert rows[1][:7] == ("县教育局", "干部甲", 0, "H1", "0.00", 0, "否")


def test_visit_and_measure_api(world, units, client):
    from fupin.core import services as cs
    services.pair(actor=units["officer"], helper=units["staff"], household=world.h1, start=START)
    user = world.users["pairing_helper"]
    h = {"HTTP_AUTHORIZATION": f"Bearer {cs.token_create(actor=user, user=user, name='mini')}"}
    body = {"household_id": world.h1.pk, "date": "2024-03-01", "minutes": 45, "done": "宣讲政策", "client_token": "m-1"}
    r1 = client.post("/api/v1/visits", body, content_type="application/json", **h)
    r2 = client.post("/api/v1/visits", body, content_type="application/json", **h)
    assert (r1.status_code, r2.status_code, r1.json()["id"], Visit.objects.count()) == (201, 201, r2.json()["id"], 1)
    r = client.post("/api/v1/measures", {"household_id": world.h1.pk, "kind": "education", "money": "500.50",
                                         "date": "2024-03-02", "description": "资助校服"}, content_type="application/json", **h)
    assert (r.status_code, Measure.objects.get().money) == (201, 50050)
    r = client.post("/api/v1/measures", {"household_id": world.h1.pk, "kind": "gift", "money": "1",
                                         "date": "2024-03-02", "description": "x"}, content_type="application/json", **h)
    assert r.status_code == 400 and r.json()["errors"]["措施类型"] == "应为 产业、就业、教育、健康、住房、社会保障、基础设施、其他 之一"


def test_bulk_pairing_from_excel_all_or_nothing_and_idempotent(world, units):
    from openpyxl import Workbook

    def book(rows):
        wb = Workbook()
        ws = wb.active
        ws.append(["单位", "帮扶责任人", "户编号"])
        for r in rows:
            ws.append(r)
        out = io.BytesIO()
        wb.save(out)
        return out.getvalue()
    o = units["officer"]
    n, problems, wb = services.import_pairs(o, book([["县教育局", "局长", "H1"], ["县教育局", "无此人", "H4"],
                                                      ["县教育局", "局长", "H999"]]), "x.xlsx", start=START)
    assert [str(p) for p in problems] == ["第3行B列（帮扶责任人）：单位“县教育局”没有此帮扶责任人",
                                         "第4行C列（户编号）：户编号不存在或不在您的管辖范围内"]
    assert Pair.objects.count() == 0
    n, problems, _ = services.import_pairs(o, book([["县教育局", "局长", "H1"], ["县教育局", "局长", "H4"],
                                                    ["县教育局", "局长", "H2"]]), "y.xlsx", start=START)
    assert [str(p) for p in problems] == ["第4行：局长（领导干部）按规定结对 2 户，已结对 2 户"]
    assert Pair.objects.count() == 0  # the capacity error rolled the whole list back
    good = book([["县教育局", "局长", "H1"], ["县教育局", "局长", "H4"]])
    assert services.import_pairs(o, good, "g.xlsx", start=START)[:2] == (2, [])
    assert services.import_pairs(o, good, "g.xlsx", start=START)[:2] == (2, [])
    assert Pair.objects.count() == 2


def test_team_member_records_days_and_surveys(world, login):
    team = Team.objects.create(name="桃源村工作队", village_id=V1)
    TeamMember.objects.create(team=team, name="队员", user=world.users["village_cadre"])
    c = login("village_cadre")
    c.post("/pairing/team/", {"action": "day", "date": "2024-05-06"})
    c.post("/pairing/team/", {"action": "day", "date": "2024-05-06"})
    c.post("/pairing/team/", {"action": "survey", "number": "H1", "date": "2024-05-06"})
    assert (TeamDay.objects.count(), Survey.objects.count()) == (1, 1)
    r = c.post("/pairing/team/", {"action": "survey", "number": "H4", "date": "2024-05-06"}, follow=True)
    assert "户编号不存在或不在您的管辖范围内" in r.content.decode()  # a V1 cadre cannot reach V2
