"""Masking that hides: walk the county as every role without the reveal permission over every
surface that shows persons — pages, search, API, Excel, PDFs (four cards, notices), the hospital
window — and prove that no full ID can be rebuilt from what is shown: the full number and the
birth date never appear, and each masked number shown leaves at least 1,000 candidates."""
import datetime as dt
import io
import re
import subprocess

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from fupin.core import idcard
from fupin.core import services as core_services
from fupin.registry.models import Person

from .conftest import COUNTY, V1

NO_REVEAL = ["pairing_helper", "school_aid", "hospital_window", "health_officer", "civil_affairs", "inspector"]


def pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "x.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def xlsx_text(data: bytes) -> str:
    wb = load_workbook(io.BytesIO(data), read_only=True)
    return "\n".join(" ".join("" if v is None else str(v) for v in row) for ws in wb for row in ws.iter_rows(values_only=True))


def surfaces(role, world, client, tmp_path) -> dict[str, str]:
    """Everything `role` can read about the persons of household H1, as text."""
    user = world.users[role]
    client.force_login(user)
    h1 = world.h1
    out = {}
    r = client.get(f"/households/{h1.pk}/")
    if r.status_code == 200:
        out["household page"] = r.content.decode()
    for q in ("张", "H1"):
        r = client.post("/households/", {"q": q})
        if r.status_code == 200:
            out[f"search {q}"] = r.content.decode()
    r = client.get(f"/exchange/export.xlsx?region={COUNTY}")
    if r.status_code == 200:
        out["Excel export"] = xlsx_text(r.content)
    r = client.get(f"/assistance/cards/{h1.pk}.pdf")
    if r.status_code == 200:
        out["four cards"] = pdf_text(r.content, tmp_path)
    r = client.get(f"/oversight/{COUNTY}/list/persons_covered/")
    if r.status_code == 200:
        out["board list"] = r.content.decode()
    r = client.get(f"/oversight/{COUNTY}/list/persons_covered.xlsx")
    if r.status_code == 200:
        out["board list Excel"] = xlsx_text(r.content)
    token = core_services.token_create(actor=user, user=user, name="t")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    for url in (f"/api/v1/households/{h1.pk}", "/api/v1/households?q=张",
                f"/api/v1/persons/{h1.persons.get(relation='head').pk}"):
        r = client.get(url, **auth)
        if r.status_code == 200:
            out[url] = r.content.decode("unicode_escape")
    client.logout()
    return out


@pytest.mark.parametrize("role", NO_REVEAL)
def test_no_full_id_can_be_rebuilt_from_what_a_role_without_reveal_sees(role, world, client, tmp_path):
    seen = surfaces(role, world, client, tmp_path)
    assert seen, role  # every one of these roles reads something about the household
    today = timezone.localdate()
    for p in world.h1.persons.all():
        masked = idcard.mask(p.id_number)
        for where, text in seen.items():
            assert p.id_number not in text, (role, where)
            for form in (p.birth_date.isoformat(), f"{p.birth_date:%Y%m%d}", f"{p.birth_date:%Y年%-m月%-d日}",
                         f"{p.birth_date:%Y/%m/%d}"):
                assert form not in text, (role, where, form)
            # anything that looks like an ID is the mask, never a longer piece of the number
            for shown in re.findall(r"513435[\d*]{10}[\dXx*]{2}", text):
                assert shown.count("*") >= 10, (role, where, shown)
        assert any(masked in text for text in seen.values()), (role, "the masked ID is shown somewhere")
    head = world.h1.persons.get(relation="head")
    n = idcard.candidates(idcard.mask(head.id_number), age=idcard.age_on(head.birth_date, today), sex=head.sex,
                          on=today)
    assert n >= 1000, n


def test_the_old_mask_left_a_few_dozen_candidates_and_the_new_one_thousands():
    on = dt.date(2026, 12, 2)
    pid = idcard.make_id("513435", dt.date(1970, 5, 1), 11)
    old = pid[:6] + "********" + pid[-4:]
    assert idcard.candidates(old, age=56, sex="M", on=on) == 33
    assert idcard.mask(pid) == "513435**********17"
    assert idcard.candidates(idcard.mask(pid), age=56, sex="M", on=on) == 3318
    assert idcard.candidates(idcard.mask(pid), birth_year=1970, sex="M", on=on) == 3319
    assert (idcard.mask_phone("13812345678"), idcard.mask_bank("6217000011112222333")) == (
        "138****5678", "***************2333")


def test_roles_without_reveal_cannot_search_by_id_digits_and_no_one_by_url(world, client):
    head = world.h1.persons.get(relation="head")
    client.force_login(world.users["pairing_helper"])
    html = client.post("/households/", {"q": head.id_number[-4:]}).content.decode()
    assert "您的角色不能按身份证号的后几位查找" in html and "H1</a>" not in html
    html = client.post("/households/", {"q": head.id_number}).content.decode()
    assert "您的角色不能按身份证号查找" in html and "H1</a>" not in html
    assert "H1</a>" in client.post("/households/", {"q": "张三"}).content.decode()
    client.logout()
    client.force_login(world.users["village_cadre"])
    assert "H1</a>" in client.post("/households/", {"q": head.id_number[-4:]}).content.decode()
    assert "H1</a>" in client.post("/households/", {"q": head.id_number}).content.decode()
    html = client.get(f"/households/?q={head.id_number}").content.decode()  # a full ID in a URL is not searched
    assert "不要放在网址中" in html and "H1</a>" not in html


def test_phone_is_masked_and_its_reveal_is_logged(world, client):
    from fupin.core.models import AuditAction, AuditEvent
    world.h1.phone = "13812345678"
    world.h1.save()
    client.force_login(world.users["pairing_helper"])
    html = client.get(f"/households/{world.h1.pk}/").content.decode()
    assert "138****5678" in html and "13812345678" not in html
    assert client.post(f"/households/{world.h1.pk}/reveal/phone/").status_code == 403
    client.logout()
    client.force_login(world.users["village_cadre"])
    assert client.post(f"/households/{world.h1.pk}/reveal/phone/").json() == {"value": "13812345678"}
    e = AuditEvent.objects.filter(action=AuditAction.REVEAL).latest("id")
    assert (e.actor.username, e.household_id, e.summary) == ("village_cadre", world.h1.pk, "查看户 H1 的完整联系电话")


def test_every_person_of_a_village_keeps_a_thousand_candidates():
    """Over many generated IDs (the demo county's way of making them), the mask never leaves
    fewer than 1,000 candidates for someone whose age and sex are known."""
    on = dt.date(2026, 12, 2)
    for i, birth in enumerate((dt.date(1950, 1, 1), dt.date(1988, 2, 29), dt.date(2012, 12, 31), dt.date(2026, 1, 2))):
        for seq in (1, 2, 998, 999 - i):
            pid = idcard.make_id("513435", birth, seq)
            n = idcard.candidates(idcard.mask(pid), age=idcard.age_on(birth, on), sex="M" if seq % 2 else "F", on=on)
            assert n >= 1000, (pid, n)


def test_a_village_list_on_the_public_notice_shows_no_id(world):
    from fupin.workflows import services as wf
    content = wf._notice_content(world.h1, "贫困户识别")
    assert content == [{"name": "张三", "village": "桃源村", "reason": "因病",
                        "matter": "贫困户识别"}]
    assert Person.objects.filter(household=world.h1).count() == 3 and V1 == world.h1.village_id
