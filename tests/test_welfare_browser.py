"""A 低保 application on a phone, from submission to the first payment (headless Chromium)."""
import datetime as dt

import pytest
from django.utils import timezone

from fupin.core.models import User
from fupin.core.roles import Role
from fupin.funds import services as funds
from fupin.registry.models import Income
from fupin.welfare import services
from fupin.welfare.models import Application, Enrolment, PaymentRun, RunStatus

from .conftest import COUNTY, PASSWORD
from .test_browser import browser, sign_in  # noqa: F401  (the browser fixture)

pytestmark = pytest.mark.browser


def test_dibao_application_from_submission_to_first_payment(live_server, world, browser, monkeypatch):  # noqa: F811
    clock = {"today": dt.date(2026, 11, 2)}
    monkeypatch.setattr(services, "today", lambda: clock["today"])
    Income.objects.create(household=world.h1, year=2025, wages=720000, business=0, transfers=0, property_income=0,
                          costs=0, size=3, recorded_on=dt.date(2026, 1, 10))
    civil2 = User(username="civil2", role=Role.CIVIL_AFFAIRS, region_id=COUNTY, password_changed_at=timezone.now())
    civil2.set_password(PASSWORD)
    civil2.save()
    budget = services.budget_for(world.h1.village.parent.parent, "dibao", 2026)
    funds.budget_allocate(actor=world.users["county_officer"], budget=budget, amount=1_000_000,
                          date=dt.date(2026, 1, 5), decision_id="民财1号")
    head = world.h1.persons.get(relation="head")

    def as_user(username):
        ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                  locale="zh-CN")
        page = ctx.new_page()
        page.set_default_timeout(10000)
        sign_in(page, live_server.url, username)
        return ctx, page

    def approve(page, app, **fields):
        page.goto(f"{live_server.url}/welfare/applications/{app.pk}/")
        for name, value in fields.items():
            page.fill(f"#act input[name={name}]", value)
        page.click("#act button[value=approve]")
        page.wait_for_load_state()

    # the village cadre takes the application from the household page, with consent
    ctx, page = as_user("village_cadre")
    page.goto(f"{live_server.url}/households/{world.h1.pk}/")
    page.click("text=受理社会救助申请")
    page.select_option("select[name=person]", str(head.pk))
    page.select_option("select[name=programme]", "dibao")
    page.check("#consent")
    page.click("form.card button[type=submit]")
    page.wait_for_url("**/welfare/applications/*/")
    app = Application.objects.get()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390   # fits the phone
    approve(page, app)
    page.goto(f"{live_server.url}/welfare/applications/{app.pk}/")   # the home visit: the assets found
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    approve(page, app, verifier1="王村长", verifier2="李队员", evidence="核实表001", deposits="2000", houses="1")
    assert list(app.assets.values_list("deposits", "houses")) == [(200000, 1)]
    approve(page, app)
    approve(page, app)
    ctx.close()
    app.refresh_from_db()
    assert (app.current["key"], app.notice_end) == ("township_review", dt.date(2026, 11, 8))
    clock["today"] = dt.date(2026, 11, 9)
    ctx, page = as_user("township_officer")
    approve(page, app)
    ctx.close()
    ctx, page = as_user("civil_affairs")
    approve(page, app)
    approve(page, app)
    assert page.inner_text("#app-state") == "已批准"
    e = Enrolment.objects.get(person=head)
    assert e.monthly_amount == 84000
    # the monthly run: computed by one officer …
    page.goto(f"{live_server.url}/welfare/runs/")
    page.select_option("select[name=programme]", "dibao")
    page.fill("input[name=month]", "2026-11")
    page.click("form.card button[type=submit]")
    page.wait_for_url("**/welfare/runs/*/")
    assert "新增" in page.inner_text("#lines")
    run = PaymentRun.objects.get()
    ctx.close()
    # … approved and posted by another
    ctx, page = as_user("civil2")
    page.goto(f"{live_server.url}/welfare/runs/{run.pk}/")
    page.click("text=审批通过")
    page.wait_for_load_state()
    page.click("text=发放入账")
    page.wait_for_load_state()
    assert page.inner_text("#run-status") == "已发放入账"
    ctx.close()
    run.refresh_from_db()
    assert (run.status, run.total) == (RunStatus.POSTED, 84000)
    assert funds.balance(budget) == 1_000_000 - 84000
