"""Policy what-if in the browser (headless Chromium): an officer changes a parameter of a saved
scenario, runs it, and sees the cost change; the chart draws under the strict CSP on a phone."""
import datetime as dt

import pytest

from fupin.core.models import User
from fupin.welfare.models import Enrolment
from fupin.whatif import services

from .test_browser import browser, sign_in  # noqa: F401  (the browser fixture)

pytestmark = pytest.mark.browser


def test_changing_a_parameter_changes_the_cost(live_server, world, browser):  # noqa: F811
    officer = world.users["county_officer"]
    head = world.h1.persons.get(relation="head")
    # one 低保 household of three with 100 yuan a month per head, the whole of 2026
    Enrolment.objects.create(household=world.h1, person=head, programme="dibao", category="ordinary", income=10000,
                             members=3, monthly_amount=114000, start=dt.date(2026, 1, 1),
                             created_by=User.objects.get(pk=officer.pk))
    s = services.scenario_save(actor=officer, name="低保标准450元", region_code="513435000000", year=2026,
                               changes={"welfare.dibao.standard_per_month": "450"})
    services.scenario_run(actor=officer, scenario_id=s.pk)
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="zh-CN")
    page = ctx.new_page()
    page.set_default_timeout(15000)
    problems = []
    # a script or style the Content-Security-Policy blocked (the chart's JSON is data, not a script)
    page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
    sign_in(page, live_server.url, "county_officer")
    page.goto(f"{live_server.url}/whatif/{s.pk}/")
    page.wait_for_selector("#chart[data-ready='1'] canvas")
    # 12 months × (480 − 100) × 3 now; 12 × (450 − 100) × 3 in the scenario
    assert page.inner_text("#total-current") == "13,680.00"
    assert page.inner_text("#total-scenario") == "12,600.00"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.fill("input[name='p:welfare.dibao.standard_per_month']", "500")
    page.click("#save")
    page.wait_for_selector("#stale")
    page.click("#run")
    page.wait_for_url("**/jobs/*/")
    page.click("text=查看结果")
    page.wait_for_url(f"**/whatif/{s.pk}/")
    assert page.inner_text("#total-scenario") == "14,400.00"   # 12 × (500 − 100) × 3
    assert page.inner_text("#total-current") == "13,680.00"
    assert page.locator("#stale").count() == 0
    assert problems == []
    ctx.close()
