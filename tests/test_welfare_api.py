"""Social assistance through the REST API and `fupin welfare`: the same services, capabilities and
scope as the screens (issue 16)."""
import datetime as dt

import pytest

from fupin.cli.main import main
from fupin.core import services as core_services
from fupin.welfare import services
from fupin.welfare.models import Enrolment, PaymentRun, RunStatus

from .conftest import COUNTY
from .test_welfare import approve_all, clock, enrol_dibao, paid, wel  # noqa: F401 (fixtures)


@pytest.fixture
def api(client, world, wel):
    def as_user(user):
        token = core_services.token_create(actor=user, user=user, name="t")
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}

        class C:
            def get(self, url):
                return client.get(url, **headers)

            def post(self, url, body=None):
                return client.post(url, body or {}, content_type="application/json", **headers)
        return C()
    return as_user


def test_application_through_the_api_then_a_run_computed_approved_by_another_and_posted_once(world, wel, clock, api):
    from fupin.welfare.models import Application

    head = world.h1.persons.get(relation="head")
    village, civil, civil2 = api(wel["village"]), api(wel["civil"]), api(wel["civil2"])
    body = {"household_id": world.h1.pk, "person_id": head.pk, "programme": "dibao", "category": "ordinary",
            "consent_assets": False, "on_behalf": True}
    r = village.post("/api/v1/welfare/applications", body)
    message = "申请人须承诺并授权核查家庭收入和财产状况，才能受理"
    assert (r.status_code, r.json()) == (400, {"detail": f"授权核查：{message}", "errors": {"授权核查": message}})
    r = village.post("/api/v1/welfare/applications", {**body, "consent_assets": True})
    assert r.status_code == 201
    app = r.json()
    assert (app["state"], app["step"], app["step_due"]) == ("in_progress", "application", "2026-11-05")
    r = village.post(f"/api/v1/welfare/applications/{app['id']}/act", {"step": "application", "approve": True})
    assert (r.status_code, r.json()["step"]) == (200, "home_verification")
    r = village.post(f"/api/v1/welfare/applications/{app['id']}/act",
                     {"step": "home_verification", "approve": True, "verifiers": ["王村长"], "evidence": ["表1"],
                      "assets": {}})
    assert r.status_code == 400 and "至少 2 人" in r.json()["detail"] + str(r.json().get("errors"))
    approve_all(Application.objects.get(pk=app["id"]), wel, clock)
    assert civil.get(f"/api/v1/welfare/applications/{app['id']}").json()["state_label"] == "已批准"
    benefits = village.get(f"/api/v1/households/{world.h1.pk}/benefits").json()
    assert [(b["person"], b["programme_label"], b["monthly_amount"], b["start"]) for b in benefits] == [
        ("张三", "最低生活保障（低保）", "840.00", "2026-11-01")]

    clock["today"] = dt.date(2026, 12, 3)
    assert village.post("/api/v1/welfare/runs", {"programme": "dibao", "county": COUNTY,
                                                 "month": "2026-12"}).status_code == 403
    r = civil.post("/api/v1/welfare/runs", {"programme": "dibao", "county": COUNTY, "month": "2026-12"})
    assert r.status_code == 201
    run = r.json()
    assert {k: run[k] for k in ("month", "status", "recipients", "total", "computed_by", "approved_by")} == {
        "month": "2026-12", "status": "computed", "recipients": 1, "total": "840.00", "computed_by": "civil_affairs",
        "approved_by": None}
    lines = civil.get(f"/api/v1/welfare/runs/{run['id']}/lines").json()
    assert lines == {"count": 1, "lines": [{
        "person_id": head.pk, "name": "张三", "id_number_masked": f"{head.id_number[:6]}**********{head.id_number[-2:]}",
        "amount": "840.00", "previous": None, "flag": "new", "flag_label": "新增"}]}
    r = civil.post(f"/api/v1/welfare/runs/{run['id']}/approve")
    assert (r.status_code, r.json()["detail"]) == (403, "计算人不能审批自己的计算，请由另一位工作人员审批")
    assert civil2.post(f"/api/v1/welfare/runs/{run['id']}/post").json()["detail"] == \
        f"计算 {run['id']} 尚未审批，不能发放"
    assert civil2.post(f"/api/v1/welfare/runs/{run['id']}/approve").json()["status"] == "approved"
    r = civil2.post(f"/api/v1/welfare/runs/{run['id']}/post")
    assert (r.status_code, r.json()["status_label"], r.json()["approved_by"]) == (200, "已发放入账", "civil2")
    assert paid(head, "2026-12") == [84000]
    again = civil.post("/api/v1/welfare/runs", {"programme": "dibao", "county": COUNTY, "month": "2026-12"}).json()
    assert (again["recipients"], again["total"]) == (0, "0.00")
    assert [r["id"] for r in civil.get("/api/v1/welfare/runs?month=2026-12").json()] == [again["id"], run["id"]]
    assert api(world.users["county_officer"]).get(f"/api/v1/welfare/runs/{run['id']}").json()["recipients"] == 1
    assert api(world.users["auditor"]).get("/api/v1/welfare/runs/999999").status_code in (403, 404)


def test_recheck_through_the_api_stop_needs_a_reason(world, wel, clock, api):
    e = enrol_dibao(world, wel, clock)
    civil = api(wel["civil"])
    r = civil.post(f"/api/v1/welfare/enrolments/{e.pk}/recheck", {"stop": True})
    assert (r.status_code, r.json()["errors"]) == (400, {"停发原因": "停发必须写明原因"})
    r = civil.post(f"/api/v1/welfare/enrolments/{e.pk}/recheck", {"stop": True, "reason": "家庭成员已稳定就业"})
    assert r.status_code == 201
    assert {k: r.json()[k] for k in ("result", "old_amount", "new_amount", "effective")} == {
        "result": "stop", "old_amount": "840.00", "new_amount": "0.00", "effective": "2026-12-01"}
    assert Enrolment.objects.get(pk=e.pk).stop == dt.date(2026, 12, 1)
    assert api(wel["village"]).post(f"/api/v1/welfare/enrolments/{e.pk}/recheck",
                                    {"reason": "x"}).status_code == 403


def test_cli_compute_approve_post_with_the_same_rules(world, wel, clock, capsys):
    e = enrol_dibao(world, wel, clock)
    clock["today"] = dt.date(2026, 12, 3)
    capsys.readouterr()
    assert main(["welfare", "compute", "--programme", "dibao", "--county", COUNTY, "--month", "2026-12",
                 "--user", "civil_affairs"]) == 0
    run = PaymentRun.objects.get()
    assert capsys.readouterr().out == f"{run.pk}\t甘洛县\t2026-12\t最低生活保障（低保）\t已计算待审核\t1 人\t840.00 元\n"
    assert main(["welfare", "approve", str(run.pk), "--user", "civil_affairs"]) == 2
    assert capsys.readouterr().err.strip() == "计算人不能审批自己的计算，请由另一位工作人员审批"
    assert main(["welfare", "compute", "--programme", "dibao", "--county", COUNTY, "--month", "2026-12",
                 "--user", "village_cadre"]) == 2
    assert main(["welfare", "approve", str(run.pk), "--user", "civil2"]) == 0
    assert main(["welfare", "post", str(run.pk), "--user", "civil2"]) == 0
    assert capsys.readouterr().out.splitlines()[-1].split("\t")[4] == "已发放入账"
    assert PaymentRun.objects.get().status == RunStatus.POSTED and paid(e.person, "2026-12") == [84000]
    assert main(["welfare", "post", str(run.pk), "--user", "civil2"]) == 2
    assert capsys.readouterr().err.strip() == f"计算 {run.pk} 已发放入账，不能重复发放"
    assert main(["welfare", "runs", "--month", "2026-12", "--user", "county_officer"]) == 0
    assert capsys.readouterr().out == f"{run.pk}\t甘洛县\t2026-12\t最低生活保障（低保）\t已发放入账\t1 人\t840.00 元\n"


# ---- property: whatever officers do, nobody is paid twice for a month -------------------------------

from django.db import transaction  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

MONTHS = [dt.date(2026, 11, 1), dt.date(2026, 12, 1)]
OPS = st.lists(st.tuples(st.sampled_from(["compute", "approve", "post", "back_pay", "recover"]),
                         st.sampled_from([0, 1]), st.sampled_from([0, 1])), min_size=1, max_size=10)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_no_one_is_paid_twice_in_a_month_whatever_the_order_of_runs_back_pay_and_recovery(world, wel, clock, ops):
    """Runs computed, approved and posted in any order, back-pay and recovery of either month for
    either recipient: after every step each recipient has at most one live payment per month."""
    from fupin.core.errors import FupinError
    from fupin.funds.services import live_payment_lines

    with transaction.atomic():
        clock["today"] = dt.date(2026, 11, 2)
        heads = [h.persons.get(relation="head") for h in (world.h1, world.h4)]
        enrolments = [services_grant(wel, p) for p in heads]
        clock["today"] = dt.date(2026, 12, 20)
        for op, month, who in ops:
            m = MONTHS[month]
            try:
                if op == "compute":
                    services.run_compute(actor=wel["civil"], programme="dibao", county_code=COUNTY, month=m)
                elif op in ("approve", "post"):
                    status = RunStatus.COMPUTED if op == "approve" else RunStatus.APPROVED
                    run = PaymentRun.objects.filter(month=m, status=status).first()
                    if run is not None and op == "approve":
                        services.run_approve(actor=wel["civil2"], run_id=run.pk)
                    elif run is not None:
                        services.run_post(actor=wel["civil2"], run_id=run.pk)
                elif op == "back_pay":
                    services.back_pay(actor=wel["civil2"], enrolment_id=enrolments[who].pk, month=m, reason="补发")
                else:
                    services.overpayment_recover(actor=wel["civil2"], enrolment_id=enrolments[who].pk, month=m,
                                                 reason="核减")
            except FupinError:
                pass
            for e in enrolments:
                for mm in MONTHS:
                    live = list(live_payment_lines().filter(account__person_id=e.person_id, entitlement="welfare.dibao",
                                                            period=f"{mm:%Y-%m}").values_list("amount", flat=True))
                    assert live in ([], [e.monthly_amount]), (ops, e.person_id, mm, live)
        transaction.set_rollback(True)


def services_grant(wel, person):
    from fupin.welfare import services as s

    return s.enrolment_grant(actor=wel["civil"], household_id=person.household_id, person_id=person.pk,
                             programme="dibao", category="ordinary", start=dt.date(2026, 11, 1))
