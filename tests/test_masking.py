"""Masking that hides (issue 11 §1): walk a small demo county as every demo account without the
reveal permission, over every surface that shows persons — household page, search, API, Excel
export, four cards, notices, the hospital window and its slip, the dropout list, board lists,
the audit log, error messages — and prove that no full ID can be rebuilt from what is shown:
the full number and the birth date never appear, and all the masks shown of one person, taken
together with the birth year and the sex, leave at least 1,000 candidates (`idcard.candidates`
tries them; nothing here is a format string taken on trust)."""
import datetime as dt
import io
import json
import re
import subprocess
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from fupin.core import idcard
from fupin.core import services as core_services
from fupin.core.roles import Cap, can
from fupin.demo import generator
from fupin.registry.models import Person

from .conftest import V1, pid

pytestmark = pytest.mark.usefixtures("on_a_covered_day")   # starts workflows (conftest.on_a_covered_day)

FLOOR = 1000  # issue 11: no ID may be narrowed to fewer candidates than this
# A birth registered as a membership event (its date is the birth date), early enough to be
# among the birth dates the walk looks for (see problems_of).
LATE_BIRTH = dt.date(2013, 6, 17)


def pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "x.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def xlsx_text(data: bytes) -> str:
    wb = load_workbook(io.BytesIO(data), read_only=True)
    return "\n".join(" ".join("" if v is None else str(v) for v in row) for ws in wb for row in ws.iter_rows(values_only=True))


def without_fields(html: str, value: str) -> str:
    """The page without the form fields holding what the user typed (the box, the page's own URL)."""
    return re.sub(f'value="[^"]*{re.escape(value)}[^"]*"', 'value=""', html)


@pytest.fixture
def county(db, settings):
    """A small demo county (about 300 persons) with what every surface needs: a registered
    birth (timeline, API events), a notice, a settled claim, pairings, schools and a roster."""
    from fupin.core.models import User
    from fupin.health import services as health
    from fupin.health.models import Hospital
    from fupin.registry import services as registry
    from fupin.registry.models import Household
    from fupin.workflows import services as wf

    settings.DEMO = True  # demo accounts (and their API tokens) work in demo mode only
    spec = generator.generate(300, min_villages=4)
    generator.seed_database(spec)
    generator.seed_demo_users(spec)
    generator.seed_demo_extras(spec)
    users = {u.username: u for u in User.objects.filter(is_demo=True)}
    cadre = users["village"]
    village = cadre.region_id
    home = (Household.objects.filter(village_id=village).exclude(status__in=["dissolved", "applied"])
            .order_by("number").first())
    registry.person_register(actor=cadre, household=home, kind="birth", date=LATE_BIRTH, data={
        "name": "补登记", "id_number": idcard.make_id("513435", LATE_BIRTH, 123), "relation": "child",
        "labour": "none", "sex": "", "birth_date": None})
    # a household of its own that has just applied (the demo's applicants are already on their way)
    applicant = Household.objects.create(number=village + "9001", village_id=village, attribute="general",
                                         main_cause="illness", status="applied")
    Person(household=applicant, name="新申请", id_number=pid("1981-03-04", 71), birth_date=dt.date(1981, 3, 4),
           sex="M", relation="head", labour="ordinary").save()
    inst = wf.start(actor=cadre, household=applicant, kind="identification")
    for key in ("application", "appraisal", "village_verification"):
        inst = wf.act(actor=cadre, instance_id=inst.pk, step_key=key, decision="approve", verifiers=["甲", "乙"])
    head = home.persons.get(relation="head", alive=True)
    bill = {"discharge_date": timezone.localdate() - dt.timedelta(days=10), "visit_type": "inpatient", "in_county": True,
            "referred": False}   # discharged before the (demo clock's) today
    bill |= health.parse_bill_amounts({"total": "10000.00", "in_policy": "9000.00", "waivable": "0"})
    claim = health.settle(user=users["hospital"], hospital=Hospital.objects.get(code="H513435"), person=head,
                          number="M1", bill=bill)
    return type("County", (), dict(
        users=users, code=users["county"].region_id, village=village, township=village[:9] + "000", home=home,
        head=head, notice=inst.notices.get(), claim=claim, persons=list(Person.objects.all()),
        stranger=pid("1980-08-08", 61, prefix="513436")))  # a valid number of no one in this county


def _text(response, tmp_path) -> str:
    kind = response.get("Content-Type", "")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if "pdf" in kind:
        return pdf_text(body, tmp_path)
    if "spreadsheet" in kind:
        return xlsx_text(body)
    if "json" in kind:
        return json.dumps(json.loads(body), ensure_ascii=False)
    return body.decode()


def walk(c, client, user, tmp_path) -> dict[str, tuple[int, str]]:
    """Every surface as this account: {surface: (status, text)}. Where the account itself typed a
    full number (a lookup), form fields that hold what it typed are emptied before checking: what
    must never carry the number is everything else — results, messages, PDFs."""
    client.force_login(user)
    token = core_services.token_create(actor=user, user=user, name="masking")
    api = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    h, head, v, n = c.home, c.head, c.village, c.notice
    tail = head.id_number[-4:]
    requests = {
        "region page": ("get", f"/regions/{v}/", None, {}),
        "household page": ("get", f"/households/{h.pk}/", None, {}),
        "search list": ("get", f"/households/?region={v}", None, {}),
        "search by name": ("post", "/households/", {"q": head.name}, {"HTTP_X_PARTIAL": "1"}),
        "search by last digits": ("post", "/households/", {"q": tail}, {"HTTP_X_PARTIAL": "1"}),
        "search by full ID": ("post", "/households/", {"q": head.id_number}, {"HTTP_X_PARTIAL": "1"}),
        "search by full ID in a URL": ("get", f"/households/?q={head.id_number}", None, {}),
        "API households": ("get", f"/api/v1/households?region={v}", None, api),
        "API household": ("get", f"/api/v1/households/{h.pk}", None, api),
        "API person": ("get", f"/api/v1/persons/{head.pk}", None, api),
        "API events": ("get", f"/api/v1/households/{h.pk}/events", None, api),
        "API search by name": ("json", "/api/v1/households/search", {"q": head.name}, api),
        "API search by last digits": ("json", "/api/v1/households/search", {"q": tail}, api),
        "API search by full ID": ("json", "/api/v1/households/search", {"q": head.id_number}, api),
        "API full ID in a URL": ("get", f"/api/v1/households?q={head.id_number}", None, api),
        "Excel export": ("get", f"/exchange/export.xlsx?region={v}", None, {}),
        "four cards": ("get", f"/pairing/cards/{h.pk}.pdf", None, {}),
        "four cards of the village": ("get", f"/pairing/cards/{v}.pdf", None, {}),
        "notice page": ("get", f"/workflows/notices/{n.pk}/", None, {}),
        "notice PDF": ("get", f"/workflows/notices/{n.pk}/pdf/", None, {}),
        "hospital window": ("get", "/health/window/", None, {}),
        "hospital window lookup": ("post", "/health/window/", {"id_number": head.id_number}, {}),
        "hospital window, not found": ("post", "/health/window/", {"id_number": c.stranger}, {}),
        "claim page": ("get", f"/health/claims/{c.claim.pk}/", None, {}),
        "settlement slip": ("get", f"/health/claims/{c.claim.pk}/slip.pdf", None, {}),
        "dropout list": ("get", f"/education/dropout/?township={c.township}&semester=2026-autumn", None, {}),
        "board list": ("get", f"/oversight/{c.code}/list/persons_covered/", None, {}),
        "board list Excel": ("get", f"/oversight/{c.code}/list/persons_covered.xlsx", None, {}),
        "health programmes": ("get", "/health/", None, {}),
        "funds": ("get", "/funds/", None, {}),
        "audit log": ("get", "/audit/", None, {}),
        "helper's households": ("get", "/pairing/", None, {}),
    }
    seen = {}
    for surface, (method, url, data, headers) in requests.items():
        if method == "json":
            r = client.post(url, data, content_type="application/json", **headers)
        elif method == "post":
            r = client.post(url, data, **headers)
        else:
            r = client.get(url, **headers)
            if r.status_code == 302 and r["Location"].startswith("/jobs/"):  # made by a background job
                r = client.get(r["Location"] + "download/", **headers)
        text = _text(r, tmp_path)
        for typed in list((data or {}).values()) + [x for _, x in parse_qsl(urlsplit(url).query)]:
            text = without_fields(text, typed)
        seen[surface] = (r.status_code, text)
    client.logout()
    return seen


FULL_ID = re.compile(r"(?<![0-9])[0-9]{17}[0-9X](?![0-9X])")
MASKED = re.compile(r"(?<![0-9X*])[0-9X*]{18}(?![0-9X*])")
DATES = [re.compile(p) for p in (r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)", r"(\d{4})年(\d{1,2})月(\d{1,2})日",
                                 r"(?<!\d)(\d{4})/(\d{1,2})/(\d{1,2})(?!\d)", r"(?<!\d)(\d{4})\.(\d{1,2})\.(\d{1,2})(?!\d)",
                                 r"(?<![0-9])(\d{4})(\d{2})(\d{2})(?![0-9])")]


def dates_in(text: str) -> set[dt.date]:
    out = set()
    for pattern in DATES:
        for y, m, d in pattern.findall(text):
            try:
                out.add(dt.date(int(y), int(m), int(d)))
            except ValueError:
                pass
    return out


def problems_of(c, seen: dict) -> tuple[list[str], set[str]]:
    """What an account without REVEAL_ID must not be able to learn from `seen`, and the masks seen."""
    problems = []
    ids = {p.id_number: p for p in c.persons}
    forbidden = set(ids) | {c.stranger}
    # (Only persons born before 2014 are looked for: the registry's own dates — status changes,
    # checks, incomes, deaths, notices — all fall later, so a match can only be a birth date.)
    births = {p.birth_date for p in c.persons if p.birth_date < dt.date(2014, 1, 1)}
    for surface, (_, text) in seen.items():
        # 1. no full ID number anywhere: pages, API, exports, PDFs, error messages
        if found := set(FULL_ID.findall(text)) & forbidden:
            problems.append(f"{surface}: full ID {sorted(found)}")
        # 2. no birth date, in any spelling
        if found := dates_in(text) & births:
            problems.append(f"{surface}: birth date {sorted(map(str, found))}")
        # 3. the birth year only, never the age as well: the two together keep only the dates
        #    that fit both (test_age_and_birth_year_together_narrow_the_date)
        if '"age":' in text or "<th>年龄</th>" in text:
            problems.append(f"{surface}: shows the age beside the birth year")
    # 4. every person: all masks on all surfaces that fit the person, taken together, with the
    #    birth year and the sex, still leave at least FLOOR numbers
    masks = {m for _, text in seen.values() for m in MASKED.findall(text) if "*" in m}
    today = timezone.localdate()
    for real, p in ids.items():
        fitting = [m for m in masks if all(a in ("*", b) for a, b in zip(m, real))]
        if fitting:
            shown = {i for m in fitting for i, ch in enumerate(m) if ch != "*"}
            merged = "".join(ch if i in shown else "*" for i, ch in enumerate(real))
            if (n := idcard.candidates(merged, birth_year=p.birth_date.year, sex=p.sex, on=today)) < FLOOR:
                problems.append(f"{p.name}: only {n} candidates from {fitting}")
    return problems, masks


MASKED_ACCOUNTS = sorted(username for username, _, role, _ in generator.demo_users(generator.generate(20))
                         if not can(role, Cap.REVEAL_ID))


def test_no_account_without_reveal_can_rebuild_an_id_from_anything_it_sees(county, client, tmp_path):
    reached: dict[str, set] = {}
    problems = []
    for username in MASKED_ACCOUNTS:
        user = county.users[username]
        seen = walk(county, client, user, tmp_path)
        found, masks = problems_of(county, seen)
        problems += [f"{username} · {p}" for p in found]
        for surface, (status, _) in seen.items():
            reached.setdefault(surface, set())
            if status == 200:
                reached[surface].add(username)
        if can(user.role, Cap.READ):   # the walk is not empty: a reader saw the page and its masks
            assert username in reached["household page"] and idcard.mask(county.head.id_number) in masks
    assert problems == [], "\n".join(problems)
    # The proof is only as good as the walk: every surface was shown to some masked account
    # (refused to all of them, with a message that does not repeat the digits: a full number in
    # an API URL, and the last digits, which only REVEAL_ID may search).
    assert sorted(s for s, who in reached.items() if not who) == ["API full ID in a URL", "API search by last digits"]


def test_public_notice_shows_name_village_and_reason_only(county, client, tmp_path):
    n = county.notice
    page = client.get(f"/public/notices/{n.token}/").content.decode()
    applicant = n.instance.household.persons.get(relation="head")
    client.force_login(county.users["county"])  # even as a role that may reveal full numbers
    pdf = pdf_text(client.get(f"/workflows/notices/{n.pk}/pdf/").content, tmp_path)
    inner = client.get(f"/workflows/notices/{n.pk}/").content.decode()
    for text in (page, pdf, inner):
        assert applicant.name in text and "贫困户识别" in text and applicant.household.village.name in text
        assert not [m for m in MASKED.findall(text) if "*" in m] and not FULL_ID.findall(text)  # no ID, not even masked
        assert applicant.birth_date not in dates_in(text) and n.instance.household.number not in text


def test_age_and_birth_year_together_narrow_the_date():
    """Why no surface shows both: seen on 2 December, age 56 and birth year 1969 leave only
    3–31 December 1969."""
    on = dt.date(2026, 12, 2)
    masked = idcard.mask(idcard.make_id("513435", dt.date(1969, 12, 20), 11))
    assert idcard.candidates(masked, birth_year=1969, sex="M", on=on) >= 3300
    assert idcard.candidates(masked, age=56, sex="M", on=on) >= 3300
    assert idcard.candidates(masked, age=56, birth_year=1969, sex="M", on=on) < FLOOR


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
            sex = "M" if seq % 2 else "F"
            n = idcard.candidates(idcard.mask(pid), age=idcard.age_on(birth, on), sex=sex, on=on)
            assert n >= 1000, (pid, n)
            n = idcard.candidates(idcard.mask(pid), birth_year=birth.year, sex=sex, on=on)
            assert n >= 1000, (pid, n)


def test_a_village_list_on_the_public_notice_shows_no_id(world):
    from fupin.workflows import services as wf
    content = wf._notice_content(world.h1, "贫困户识别")
    assert content == [{"name": "张三", "village": "桃源村", "reason": "因病",
                        "matter": "贫困户识别"}]
    assert Person.objects.filter(household=world.h1).count() == 3 and V1 == world.h1.village_id


@pytest.mark.parametrize("role, tail, full", [
    ("county_officer", ["H1"], ["H1"]),      # REVEAL_ID: the last digits and full numbers
    ("village_cadre", ["H1"], ["H1"]),
    ("health_officer", [], ["H1"]),          # FIND_BY_FULL_ID only: full numbers, not the last digits
    ("school_aid", [], ["H1"]),
    ("civil_affairs", [], ["H1"]),
    ("hospital_window", [], ["H1"]),
    ("pairing_helper", [], []),              # neither: names and household numbers
    ("inspector", [], []),
])
def test_who_may_search_by_id_digits(world, role, tail, full):
    from fupin.registry import selectors

    def numbers(q, from_url=False):
        return [h.number for h in selectors.search_households(
            world.users[role], selectors.SearchQuery(q=q, from_url=from_url)).rows]

    head = world.h1.persons.get(relation="head")
    assert numbers("张三") == numbers("张三", from_url=True) == numbers("H1", from_url=True) == ["H1"]
    assert numbers(head.id_number[-4:]) == tail
    assert numbers(head.id_number) == full
    assert numbers(head.id_number[-6:], from_url=True) == numbers(head.id_number, from_url=True) == []


def test_a_household_number_made_of_digits_is_found_by_every_reader(world, client):
    """Digits that are not searched as ID digits are still a household number (the demo
    county's numbers are 16 digits), in a URL, a form and the API alike."""
    from fupin.registry.models import Household

    Household.objects.filter(pk=world.h1.pk).update(number="5134351002000001")
    user = world.users["pairing_helper"]
    client.force_login(user)
    assert "5134351002000001</a>" in client.get("/households/?q=5134351002000001").content.decode()
    assert "5134351002000001</a>" in client.post("/households/", {"q": "5134351002000001"}).content.decode()
    h = {"HTTP_AUTHORIZATION": f"Bearer {core_services.token_create(actor=user, user=user, name='t')}"}
    r = client.get("/api/v1/households?q=5134351002000001", **h)
    assert (r.status_code, [i["number"] for i in r.json()["items"]]) == (200, ["5134351002000001"])


def test_api_search_by_id_is_a_post(client, world):
    head = world.h1.persons.get(relation="head")
    user = world.users["health_officer"]
    h = {"HTTP_AUTHORIZATION": f"Bearer {core_services.token_create(actor=user, user=user, name='t')}"}
    r = client.get(f"/api/v1/households?q={head.id_number}", **h)   # would be in the access log
    assert r.status_code == 400 and head.id_number not in r.content.decode()
    r = client.post("/api/v1/households/search", {"q": head.id_number}, content_type="application/json", **h)
    assert (r.status_code, [i["number"] for i in r.json()["items"]]) == (200, ["H1"])
    r = client.post("/api/v1/households/search", {"q": head.id_number[-4:]}, content_type="application/json", **h)
    assert r.status_code == 400 and "后几位" in r.json()["detail"]   # the last digits need REVEAL_ID


def test_window_lookup_and_a_failed_settlement_keep_the_number_out_of_urls(login, world):
    from fupin.health.models import Hospital

    Hospital.objects.create(code="HW", name="甘洛县人民医院", region_id="513435000000", level="county")
    head = world.h1.persons.get(relation="head")
    c = login("hospital_window")
    html = c.post("/health/window/", {"id_number": head.id_number}).content.decode()
    assert 'id="categories"' in html and idcard.mask(head.id_number) in html and "1970年生" in html
    assert "1970-05-01" not in html and f'name="id_number" value="{head.id_number}" placeholder' not in html
    # a refused settlement shows the same patient again instead of a redirect with the number in it
    r = c.post("/health/window/settle/", {"id_number": head.id_number, "number": "", "visit_type": "inpatient",
                                         "discharge_date": "2024-06-01", "total": "1.00", "in_policy": "1.00"})
    assert r.status_code == 200 and 'id="categories"' in r.content.decode() and "流水号" in r.content.decode()


def test_a_masked_export_says_birth_year_where_a_full_one_says_birth_date(world):
    from fupin.exchange.households import export_headers

    assert "出生年份" in export_headers(world.users["health_officer"]) and \
        "出生日期" not in export_headers(world.users["health_officer"])
    assert "出生日期" in export_headers(world.users["county_officer"])
