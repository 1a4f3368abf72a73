"""Real headless Chromium against the live app, at a phone-sized viewport."""
import shutil

import pytest

from fupin.core.models import AuditEvent

from .conftest import PASSWORD

try:
    from playwright.sync_api import expect
except ImportError:  # collected without playwright: the browser tests are skipped anyway
    expect = None

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def sign_in(page, base_url, username, password=PASSWORD):
    """The login page, then, for a role that needs it, a real TOTP code on the second-factor page
    (computed from the user's authenticator key, as the phone app would)."""
    from fupin.core.models import User
    from fupin.core.roles import needs_second_factor

    from .conftest import totp_code, totp_device

    user = User.objects.get(username=username)
    if needs_second_factor(user.role):
        totp_device(user)
    page.goto(f"{base_url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    if needs_second_factor(user.role):
        page.wait_for_url("**/account/otp/**")
        page.fill("input[name=code]", totp_code(user))
        page.click("form.card button[type=submit]")
        page.wait_for_load_state()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        yield b
        b.close()


@pytest.fixture
def phone(browser):
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                              locale="zh-CN")
    page = ctx.new_page()
    page.set_default_timeout(10000)
    blocked = _watch_csp(page)
    yield page
    ctx.close()
    assert blocked == []   # every script and style ran under the Content-Security-Policy


def _watch_csp(page) -> list[str]:
    """The console messages in which Chromium reports something the CSP blocked."""
    blocked = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    return blocked


def test_village_cadre_on_a_phone_searches_opens_household_and_reveals_id(live_server, world, phone):
    head = world.h1.persons.get(relation="head")
    sign_in(phone, live_server.url, "village_cadre")
    phone.wait_for_url(f"{live_server.url}/regions/513435100200/")
    assert phone.inner_text("h1").startswith("桃源村")

    phone.goto(f"{live_server.url}/households/")
    phone.fill("input[name=q]", head.id_number[-4:])   # live search as the cadre types: not ID digits yet
    # (expect() waits without eval: wait_for_function's polling would be blocked by the CSP)
    expect(phone.locator("#results .msg.error")).to_have_text("输入完整的身份证号（或其后几位）后，请按回车或点“查询”")
    phone.press("input[name=q]", "Enter")   # now it searches, and the search is audited
    expect(phone.locator("#total")).to_have_text("1")
    assert list(AuditEvent.objects.filter(action="search").values_list("actor__username", "summary", "result")) == [
        ("village_cadre", "按身份证号后 4 位查找：找到 1 条", "ok")]
    # on a phone, result rows are cards: labels shown beside values, no table header
    assert phone.locator("table.cards thead").is_hidden()
    assert phone.evaluate("getComputedStyle(document.querySelector('table.cards tr')).display") == "block"
    phone.click("text=H1")
    phone.wait_for_url(f"{live_server.url}/households/{world.h1.pk}/")
    masked = f"{head.id_number[:6]}**********{head.id_number[-2:]}"
    row = phone.locator("#members tbody tr").first
    assert row.locator(".masked").inner_text() == masked
    row.locator("button.reveal").click()
    expect(phone.locator("#members .masked").first).to_have_text(head.id_number)
    assert AuditEvent.objects.filter(action="reveal", actor=world.users["village_cadre"]).count() == 1
    # nothing overflows the phone's width
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390


def test_hospital_window_settles_a_claim(live_server, phone, browser):
    from fupin.health.models import Claim

    from .test_health import build_shili
    hospital, patient, window, fund = build_shili()
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    page.set_default_timeout(10000)
    sign_in(page, live_server.url, "window99")
    page.goto(f"{live_server.url}/health/window/")
    page.fill("input[name=id_number]", patient.id_number)
    page.click("text=查找")
    assert "低保" in page.inner_text("#categories") and "建档立卡" in page.inner_text("#categories")
    page.fill("input[name=number]", "BR-1")
    page.fill("input[name=discharge_date]", "2024-06-01")
    page.fill("input[name=total]", "100000.00")
    page.fill("input[name=in_policy]", "90000.00")
    page.fill("input[name=waivable]", "200.00")
    # the breakdown appears as the officer types
    expect(page.locator("#breakdown tr[data-rule='health.patient'] .amount")).to_have_text("9980.00")
    assert page.inner_text("#breakdown tr[data-rule='health.topup.wsfp'] .amount") == "1359.87"
    page.click("text=确认结算")
    page.wait_for_selector("#patient")
    assert page.inner_text("#patient") == "9,980.00"
    assert "玖仟玖佰捌拾元整" in page.content()
    assert Claim.objects.get().number == "BR-1"
    ctx.close()


@pytest.mark.usefixtures("later_years_of_plain_weeks")   # its deadlines may reach a year not yet entered
def test_identification_from_application_to_announcement_by_three_tiers(live_server, world, browser, monkeypatch):
    import datetime as dt

    from fupin.registry.models import Household, Person
    from fupin.workflows.models import Notice

    from .conftest import pid
    h = Household.objects.create(number="E2E1", village_id="513435100200", attribute="general", main_cause="illness",
                                 status="applied")
    Person(household=h, name="申请户主", id_number=pid("1970-07-07", 33), birth_date=dt.date(1970, 7, 7), sex="M",
           relation="head", labour="ordinary").save()
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    page.set_default_timeout(10000)

    def as_user(username):
        if page.locator("#logout").count():   # logout is a POST (the header's button)
            page.click("#logout")
            page.wait_for_url(f"{live_server.url}/login/")
        sign_in(page, live_server.url, username)
        page.goto(f"{live_server.url}/households/{h.pk}/")

    def approve():
        page.click("#workflows button[value=approve]")
        page.wait_for_load_state()

    def let_notices_run():  # the notice must have run its length before the next tier acts
        for n in Notice.objects.all():
            Notice.objects.filter(pk=n.pk).update(start=n.start - dt.timedelta(days=30), end=n.end - dt.timedelta(days=30))

    as_user("village_cadre")
    page.select_option("#workflows select[name=kind]", "identification")
    page.click("#workflows form button")
    page.wait_for_selector("#current-step")
    for label in ("农户申请", "村民代表民主评议", "村委会核实并第一次公示"):
        assert page.inner_text("#current-step") == label
        approve()
    assert page.inner_text("#current-step") == "乡镇审核并第二次公示"
    assert page.locator("#workflows button[value=approve]").count() == 0  # a village cadre cannot act for the township
    let_notices_run()
    as_user("township_officer")
    approve()
    assert page.inner_text("#current-step") == "县级复审并公告"
    let_notices_run()
    as_user("county_officer")
    approve()
    h.refresh_from_db()
    assert h.status == "registered"
    assert "贫困户" in page.inner_text("h1")
    ctx.close()


def test_helper_records_a_visit_with_a_photo_on_a_phone(live_server, world, phone, tmp_path):
    import datetime as dt

    from fupin.pairing import services
    from fupin.pairing.models import Helper, Unit, Visit

    from .test_pairing import _jpeg_with_gps
    unit = Unit.objects.create(name="县财政局", region_id="513435000000")
    helper = Helper.objects.create(unit=unit, name="帮扶干部", kind="staff", user=world.users["pairing_helper"])
    services.pair(actor=world.users["county_officer"], helper=helper, household=world.h1, start=dt.date(2024, 1, 2))
    photo = tmp_path / "door.jpg"
    photo.write_bytes(_jpeg_with_gps())
    sign_in(phone, live_server.url, "pairing_helper")
    phone.goto(f"{live_server.url}/pairing/")
    phone.click("text=记录走访")
    phone.fill("textarea[name=done]", "入户核实收入，讲解医保政策")
    phone.set_input_files("input[name=photos]", str(photo))
    phone.click("button[type=submit]")
    phone.wait_for_selector("#visit-saved")
    v = Visit.objects.get()
    assert (v.done, v.photos.count(), v.household_id) == ("入户核实收入，讲解医保政策", 1, world.h1.pk)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390


def test_api_docs_render_from_the_apps_own_swagger_copy_under_the_csp(live_server, browser, db):
    """/api/v1/docs: Swagger UI from /static/ninja/ (no CDN), rendering the operations, nothing blocked."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    page.set_default_timeout(15000)
    blocked, hosts = _watch_csp(page), set()
    page.on("request", lambda r: hosts.add(r.url.split("/")[2]))
    page.goto(f"{live_server.url}/api/v1/docs")
    page.wait_for_selector(".swagger-ui .opblock-summary-path")
    assert "/api/v1/households" in page.inner_text(".swagger-ui")
    assert hosts == {live_server.url.split("/")[2]}   # every request went to the app itself
    ctx.close()
    assert blocked == []


def test_board_shows_chart_and_a_number_opens_its_list(live_server, world, browser):
    """The county board (作战图): the ECharts bar chart draws from the page's JSON under the strict
    CSP, and every number on it opens the list behind it, showing the same number and, for a
    count, exactly that many rows."""
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="zh-CN")
    page = ctx.new_page()
    page.set_default_timeout(10000)
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    sign_in(page, live_server.url, "county_officer")
    board = f"{live_server.url}/oversight/513435000000/"
    page.goto(board)
    page.wait_for_selector("#chart[data-ready='1'] canvas")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390   # works on a phone
    card = page.locator("li.indicator[data-key='hh_registered']")
    shown = card.locator("b.value").inner_text()
    assert shown == "3"
    card.locator("a.number").click()
    page.wait_for_url("**/oversight/513435000000/list/hh_registered/**")
    assert page.inner_text("#total") == shown
    assert page.locator("#rows tbody tr").count() == 3
    assert sorted(page.locator("#rows tbody tr td:first-child").all_inner_texts()) == ["H1", "H2", "H4"]
    # every number on the board: its link followed in turn
    page.goto(board)
    cards = [(c.get_attribute("data-key"), c.locator("b.value").inner_text(), c.locator("a.number").get_attribute("href"))
             for c in page.locator("li.indicator").all()]
    assert len(cards) >= 20
    for key, number, href in cards:
        page.goto(f"{live_server.url}{href}")
        assert page.inner_text("#total") == number, key
        if "." not in number:   # a count: the list has exactly that many rows (all fit on one page here)
            rows = page.locator("#rows tbody tr:not(:has(td[colspan]))").count()
            assert rows == int(number.replace(",", "")), key
    assert not [p for p in problems if "Content Security Policy" in p], problems
    ctx.close()


def test_board_table_sorts_by_a_clicked_header(live_server, world, browser):
    """The child regions' table sorts by the clicked number column (fupin.js, on every page), then reverses."""
    page = browser.new_page()
    page.set_default_timeout(10000)
    sign_in(page, live_server.url, "county_officer")
    page.goto(f"{live_server.url}/oversight/513435000000/")
    page.wait_for_selector("#chart[data-ready='1'] canvas")
    values = lambda: [float(v) for v in page.locator("#children tbody tr td:nth-child(2)").evaluate_all(  # noqa: E731
        "cells => cells.map(c => c.dataset.value)")]
    before = values()
    header = page.locator("#children th").nth(1)
    header.click()
    assert header.get_attribute("data-dir") == "asc" and values() == sorted(before)
    header.click()
    assert header.get_attribute("data-dir") == "desc" and values() == sorted(before, reverse=True)
    assert len(before) >= 2 and len(set(before)) >= 2   # a table where the order can be seen
    page.close()
