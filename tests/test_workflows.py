"""Workflows end to end: identification, exit, monitoring, risk elimination, return, re-marking
and dissolution, with tier order, rejections, notices and objections, deadlines, checks."""
import datetime as dt
import threading

import pytest
from django.db import connection, connections
from django.utils import timezone

from fupin.core.errors import FupinError
from fupin.core.models import AuditEvent
from fupin.registry import services as reg
from fupin.registry.models import Household
from fupin.workflows import services as wf
from fupin.workflows.models import Instance, Notice, State

from .conftest import V1


@pytest.fixture
def clock(monkeypatch):
    """Move the workflows' today forward (notices run on calendar days, deadlines on working days)."""
    state = {"today": dt.date(2025, 3, 3)}
    monkeypatch.setattr(wf, "today", lambda: state["today"])
    return state


def users(world):
    return world.users["village_cadre"], world.users["township_officer"], world.users["county_officer"]


def new_applicant(world):
    from fupin.registry.models import Person

    from .conftest import pid
    h = Household.objects.create(number="NEW1", village_id=V1, attribute="general", main_cause="illness", status="applied")
    Person(household=h, name="申请人", id_number=pid("1975-04-04", 91), birth_date=dt.date(1975, 4, 4), sex="M",
           relation="head", labour="ordinary").save()
    return h


def run_to_end(inst, world, clock, *, skip=0):
    village, township, county = users(world)
    by_tier = {"village": village, "township": township, "county": county}
    while inst.state == State.IN_PROGRESS:
        step = inst.current
        if inst.notices.exists():
            clock["today"] = inst.notices.order_by("-id").first().end + dt.timedelta(days=1)
        inst = wf.act(actor=by_tier[wf._tier(inst, step)], instance_id=inst.pk, step_key=step["key"], decision="approve",
                      verifiers=["甲", "乙"], evidence=["scan.pdf"])
        inst.refresh_from_db()
    return inst


def test_identification_end_to_end_with_tier_order_and_notices(world, clock):
    village, township, county = users(world)
    h = new_applicant(world)
    inst = wf.start(actor=village, household=h, kind="identification", comment="本人申请")
    assert (inst.step, inst.step_due) == (0, dt.date(2025, 3, 10))  # 5 working days
    with pytest.raises(FupinError) as exc:   # the township cannot act before the village
        wf.act(actor=township, instance_id=inst.pk, step_key="application", decision="approve")
    assert exc.value.message == "“农户申请”须由村级办理；前一级未完成前，上一级不能办理"
    for key in ("application", "appraisal", "village_verification"):
        inst = wf.act(actor=village, instance_id=inst.pk, step_key=key, decision="approve")
    notice = Notice.objects.get(instance=inst)
    assert (notice.start, notice.end) == (dt.date(2025, 3, 3), dt.date(2025, 3, 9))
    assert notice.content == [{"name": "申请人", "village": "桃源村", "reason": "因病",
                               "matter": "贫困户识别"}]  # public-notice rules: no ID, no birth date
    with pytest.raises(FupinError) as exc:   # the notice has not run its length
        wf.act(actor=township, instance_id=inst.pk, step_key="township_review", decision="approve")
    assert exc.value.message == "公示期至 2025-03-09 结束，公示期满后方可进行下一步"
    o = wf.objection_lodge(notice=notice, by_name="邻居王某", content="该户有一辆货车", via="web")
    clock["today"] = dt.date(2025, 3, 10)
    with pytest.raises(FupinError) as exc:
        wf.act(actor=township, instance_id=inst.pk, step_key="township_review", decision="approve")
    assert exc.value.message == "公示期间收到的 1 条异议尚未答复，全部答复后方可进行下一步"
    wf.objection_answer(actor=village, objection_id=o.pk, answer="经核实为他人借用，非该户所有")
    inst = wf.act(actor=township, instance_id=inst.pk, step_key="township_review", decision="approve")
    with pytest.raises(FupinError):   # county must wait for the second notice
        wf.act(actor=county, instance_id=inst.pk, step_key="county_announcement", decision="approve")
    clock["today"] = dt.date(2025, 3, 17)
    inst = wf.act(actor=county, instance_id=inst.pk, step_key="county_announcement", decision="approve")
    h.refresh_from_db()
    assert (inst.state, h.status, h.status_since) == (State.COMPLETED, "registered", dt.date(2025, 3, 17))
    assert Notice.objects.filter(instance=inst).count() == 3  # two notices and the announcement
    assert [a.decision for a in inst.actions.all()] == ["start", "approve", "approve", "approve", "approve", "approve"]


def test_rejection_goes_back_and_resubmission(world, clock):
    village, township, county = users(world)
    inst = wf.start(actor=village, household=new_applicant(world), kind="identification")
    inst = wf.act(actor=village, instance_id=inst.pk, step_key="application", decision="approve")
    with pytest.raises(FupinError):
        wf.act(actor=village, instance_id=inst.pk, step_key="appraisal", decision="reject")  # reason required
    inst = wf.act(actor=village, instance_id=inst.pk, step_key="appraisal", decision="reject", comment="评议未通过，收入不实")
    assert inst.state == State.REJECTED
    with pytest.raises(FupinError):
        wf.act(actor=village, instance_id=inst.pk, step_key="appraisal", decision="approve")
    inst = wf.resubmit(actor=village, instance_id=inst.pk, comment="补充了收入证明")
    assert (inst.state, inst.step) == (State.IN_PROGRESS, 0)
    assert run_to_end(inst, world, clock).state == State.COMPLETED


def test_a_read_only_role_cannot_put_a_rejected_workflow_through_again(world, clock, login):
    """An inspector (and any role that does not start workflows) is refused, on the page and in the
    service, the refusal audited; the workflow stays rejected."""
    from fupin.core.errors import AccessDenied

    village, township, county = users(world)
    inst = wf.start(actor=village, household=new_applicant(world), kind="identification")
    inst = wf.act(actor=village, instance_id=inst.pk, step_key="application", decision="approve")
    inst = wf.act(actor=village, instance_id=inst.pk, step_key="appraisal", decision="reject", comment="评议未通过")
    # the cadre's to-do names the household by its head and says why it came back
    todo = login("village_cadre").get("/workflows/todo/").content.decode()
    assert f'<li><a href="/households/{inst.household_id}/">NEW1 申请人</a> 贫困户识别被退回：评议未通过</li>' in todo
    for role in ("inspector", "school_aid", "hospital_window"):
        with pytest.raises(AccessDenied, match="^您的角色不能重新提交流程$"):
            wf.resubmit(actor=world.users[role], instance_id=inst.pk, comment="督查重新提交")
    r = login("inspector").post(f"/workflows/{inst.pk}/act/", {"decision": "resubmit", "comment": "督查重新提交"})
    assert r.status_code == 302
    inst.refresh_from_db()
    assert (inst.state, inst.step, inst.actions.filter(decision="resubmit").count()) == (State.REJECTED, 1, 0)
    assert list(AuditEvent.objects.filter(summary="重新提交流程").order_by("pk").values_list("actor__username", "result")) \
        == [("inspector", "denied"), ("school_aid", "denied"), ("hospital_window", "denied"), ("inspector", "denied")]


def test_exit_is_computed_and_needs_a_reason_to_proceed_against_it(world, clock):
    village, township, county = users(world)
    h = world.h1
    reg.income_record(actor=village, household=h, year=2024, wages=1_000_000, business=0, transfers=0,
                      property_income=0, costs=0, recorded_on=dt.date(2025, 1, 10))
    elig = wf.exit_eligibility(h, clock["today"])
    assert elig["failures"][0] == "2024年人均纯收入 3333.33 元，未超过当年标准 4000.00 元"
    inst = wf.start(actor=village, household=h, kind="exit")
    inst = wf.act(actor=village, instance_id=inst.pk, step_key="appraisal", decision="approve")
    with pytest.raises(FupinError) as exc:
        wf.act(actor=village, instance_id=inst.pk, step_key="verification", decision="approve", verifiers=["甲"])
    assert exc.value.message == "“村委会和驻村工作队核实”须至少 2 人核实，请填写核实人"
    inst = wf.act(actor=village, instance_id=inst.pk, step_key="verification", decision="approve", verifiers=["甲", "乙"])
    with pytest.raises(FupinError) as exc:
        wf.act(actor=village, instance_id=inst.pk, step_key="agreement", decision="approve")
    assert "须上传佐证材料" in exc.value.message
    inst = wf.act(actor=village, instance_id=inst.pk, step_key="agreement", decision="approve", evidence=["agree.jpg"])
    inst = wf.act(actor=village, instance_id=inst.pk, step_key="notice", decision="approve")
    clock["today"] = dt.date(2025, 3, 11)
    with pytest.raises(FupinError) as exc:
        wf.act(actor=county, instance_id=inst.pk, step_key="announcement", decision="approve")
    assert exc.value.message.startswith("不符合以下条件：2024年人均纯收入 3333.33 元，未超过当年标准 4000.00 元；")
    inst = wf.act(actor=county, instance_id=inst.pk, step_key="announcement", decision="approve",
                  override_reason="年底务工收入未计入，已补充证明")
    h.refresh_from_db()
    assert (h.status, inst.actions.filter(decision="override").count()) == ("exited", 1)


def test_monitoring_app_channel_township_accepts_and_deadline(world, clock):
    village, township, county = users(world)
    h = world.h1
    Household.objects.filter(pk=h.pk).update(status="exited")
    h.refresh_from_db()
    with pytest.raises(FupinError) as exc:
        wf.start(actor=village, household=h, kind="monitoring", channel="phone", monitored_type="sudden")
    # the channels and types by their names, never their codes
    assert exc.value.errors == {"申请渠道": "应为 农户自主申报、手机App申报、干部排查、部门筛查预警 之一"}
    with pytest.raises(FupinError) as exc:
        wf.start(actor=village, household=h, kind="monitoring", channel="app", monitored_type="poor")
    assert exc.value.errors == {"监测类型": "应为 脱贫不稳定户、边缘易致贫户、突发严重困难户 之一"}
    with pytest.raises(FupinError) as exc:   # nothing chosen: both said at once, as a request to choose
        wf.start(actor=village, household=h, kind="monitoring", channel="", monitored_type="")
    assert exc.value.errors == {"申请渠道": "请选择（农户自主申报、手机App申报、干部排查、部门筛查预警）",
                                "监测类型": "请选择（脱贫不稳定户、边缘易致贫户、突发严重困难户）"}
    inst = wf.start(actor=village, household=h, kind="monitoring", channel="app", monitored_type="sudden")
    assert AuditEvent.objects.filter(object_type="workflow", object_id=str(inst.pk)).get().summary \
        == "发起监测对象识别（手机App申报）"
    # app: the township accepts within 2 working days; the whole procedure within 20
    assert (inst.step_due, inst.deadline) == (dt.date(2025, 3, 5), dt.date(2025, 3, 31))
    with pytest.raises(FupinError):
        wf.act(actor=village, instance_id=inst.pk, step_key="application", decision="approve")
    clock["today"] = dt.date(2025, 3, 6)
    assert [i.pk for i in wf.overdue(county, clock["today"])] == [inst.pk]
    assert wf.todo(township, clock["today"])["mine"][0].pk == inst.pk
    inst = wf.act(actor=township, instance_id=inst.pk, step_key="application", decision="approve")
    with pytest.raises(FupinError) as exc:
        wf.act(actor=village, instance_id=inst.pk, step_key="home_verification", decision="approve", verifiers=["甲"])
    assert "至少 2 人" in exc.value.message
    assert run_to_end(inst, world, clock).state == State.COMPLETED
    h.refresh_from_db()
    assert h.status == "monitored"


def test_household_page_offers_the_packs_channels_and_types_by_name(world, clock, login):
    """The start form lists the monitoring procedure's channels and types from the pack, by name."""
    Household.objects.filter(pk=world.h1.pk).update(status="exited")
    html = login("village_cadre").get(f"/households/{world.h1.pk}/").content.decode()
    assert ('<option value="self">农户自主申报</option><option value="app">手机App申报</option>'
            '<option value="cadre">干部排查</option><option value="department">部门筛查预警</option>') in html
    assert ('<option value="unstable">脱贫不稳定户</option><option value="marginal">边缘易致贫户</option>'
            '<option value="sudden">突发严重困难户</option>') in html
    # a household that cannot start monitoring (a registered one) is not offered its channels
    html = login("village_cadre").get(f"/households/{world.h2.pk}/").content.decode()
    assert 'name="channel"' not in html


def test_risk_elimination_refused_without_labour_and_remarking(world, clock):
    village, township, county = users(world)
    h = world.h2  # 王五, labour "ordinary" in the fixture
    Household.objects.filter(pk=h.pk).update(status="monitored")
    h.persons.update(labour="lost")
    h.refresh_from_db()
    with pytest.raises(FupinError) as exc:
        wf.start(actor=world.users["county_officer"], household=h, kind="risk_elimination")
    assert exc.value.message == "该户无劳动能力，不标注风险消除，继续跟踪帮扶"
    h.persons.update(labour="ordinary")
    inst = wf.start(actor=county, household=h, kind="risk_elimination")
    # the county officer may start it, but the village steps still come first
    with pytest.raises(FupinError) as exc:
        wf.act(actor=county, instance_id=inst.pk, step_key="proposal", decision="approve")
    assert exc.value.message == "“村级提出”须由村级办理；前一级未完成前，上一级不能办理"


def test_risk_elimination_end_to_end_then_remark(world, clock):
    village, township, county = users(world)
    h = world.h1
    Household.objects.filter(pk=h.pk).update(status="monitored")
    h.refresh_from_db()
    inst = wf.start(actor=village, household=h, kind="risk_elimination")
    with pytest.raises(FupinError) as exc:   # the guarantees have no checks recorded: officer must give a reason
        run_to_end(inst, world, clock)
    assert "没有核查记录" in exc.value.message
    inst.refresh_from_db()
    wf.act(actor=county, instance_id=inst.pk, step_key="county_decision", decision="approve",
           override_reason="保障情况已由乡镇逐项核实，核查表另附")
    h.refresh_from_db()
    assert h.status == "eliminated"
    inst = run_to_end(wf.start(actor=village, household=h, kind="remark", comment="家中突发重病"), world, clock)
    h.refresh_from_db()
    assert (inst.kind, h.status) == ("remark", "monitored")


def test_return_and_dissolution(world, clock):
    village, township, county = users(world)
    h = world.h1
    Household.objects.filter(pk=h.pk).update(status="exited")
    h.refresh_from_db()
    run_to_end(wf.start(actor=village, household=h, kind="return"), world, clock)
    h.refresh_from_db()
    assert h.status == "returned"
    with pytest.raises(FupinError) as exc:
        wf.start(actor=village, household=h, kind="dissolution")
    assert exc.value.message == "该户还有 3 名在世成员，不能注销；注销须全部成员死亡或迁出"
    for p in h.persons.all():
        reg.person_death(actor=village, person=p, date=dt.date(2025, 1, 5))
    run_to_end(wf.start(actor=village, household=h, kind="dissolution"), world, clock)
    h.refresh_from_db()
    assert h.status == "dissolved"


def test_one_open_workflow_per_household(world, clock):
    village = world.users["village_cadre"]
    h = new_applicant(world)
    wf.start(actor=village, household=h, kind="identification")
    with pytest.raises(FupinError) as exc:
        wf.start(actor=village, household=h, kind="identification")
    assert exc.value.message == "户 NEW1 已有一个办理中的流程，请先办结"


def test_exclusion_list_flags_the_applicant(world, clock):
    from fupin.workflows.models import ExclusionMatch
    village, township, county = users(world)
    h = world.h1
    Household.objects.filter(pk=h.pk).update(status="exited")
    h.refresh_from_db()
    ExclusionMatch.objects.create(person=h.persons.get(relation="spouse"), kind="car_owner", source="车辆登记数据",
                                  recorded_on=dt.date(2025, 1, 1))
    inst = wf.start(actor=village, household=h, kind="monitoring", channel="cadre", monitored_type="marginal")
    with pytest.raises(FupinError) as exc:
        run_to_end(inst, world, clock)
    assert "经车辆登记数据比对属于不得纳入人员（car_owner）" in exc.value.message


def test_notice_length_is_policy_data(world, clock, tmp_path, monkeypatch):
    """Changing the notice length 7 → 10 days is a pack change alone."""
    from fupin.policy.packs import PackSet
    pack = tmp_path / "longer.yaml"
    pack.write_text("""
name: sc-longer-notice
title: 公示期延长为10天的县
region: "513435100"
extends: sc-513435
parameters:
  workflow.identification:
    unit: map
    values:
      - from: 2024-01-01
        source: 测试：某县公示期10天
        value:
          label: 贫困户识别
          start_statuses: [applied]
          final_status: registered
          steps:
            - {key: village_verification, label: 村委会核实并公示, tier: village, due_working_days: 5, notice_days: 10}
            - {key: county_announcement, label: 县级公告, tier: county, due_working_days: 5}
""", encoding="utf-8")
    longer = PackSet.shipped(extra=[pack])
    monkeypatch.setattr(wf, "packs", lambda: longer)
    village, township, county = users(world)
    inst = wf.start(actor=village, household=new_applicant(world), kind="identification")
    inst = wf.act(actor=village, instance_id=inst.pk, step_key="village_verification", decision="approve")
    notice = Notice.objects.get(instance=inst)
    assert (notice.end - notice.start).days + 1 == 10
    clock["today"] = notice.start + dt.timedelta(days=9)
    with pytest.raises(FupinError):
        wf.act(actor=county, instance_id=inst.pk, step_key="county_announcement", decision="approve")
    clock["today"] = notice.start + dt.timedelta(days=10)
    assert wf.act(actor=county, instance_id=inst.pk, step_key="county_announcement", decision="approve").state == State.COMPLETED


def test_notice_pdf_and_public_page(world, clock, client, login, tmp_path):
    import subprocess
    village = world.users["village_cadre"]
    inst = wf.start(actor=village, household=new_applicant(world), kind="identification")
    for key in ("application", "appraisal", "village_verification"):
        wf.act(actor=village, instance_id=inst.pk, step_key=key, decision="approve")
    notice = Notice.objects.get()
    c = login("village_cadre")
    pdf = c.get(f"/workflows/notices/{notice.pk}/pdf/").content
    path = tmp_path / "n.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "桃源村贫困户识别公示" in text and "公示期：2025-03-03 至 2025-03-09" in text
    assert "NEW1" not in text  # name, village and reason only (public-notice rules)
    assert "513435" not in text and "证件号码" not in text and "申请人" in text
    subprocess.run(["pdftoppm", "-r", "40", "-png", "-singlefile", str(path), str(tmp_path / "n")], check=True)
    from PIL import Image
    img = Image.open(tmp_path / "n.png").convert("L")
    assert (img.width, img.height) == (331, 468)
    # the QR code is drawn in the bottom-right corner: that area is not blank
    corner = img.crop((img.width - 80, img.height - 80, img.width - 10, img.height - 10))
    assert sum(corner.histogram()[:128]) > 200
    client.logout()
    page = client.get(f"/public/notices/{notice.token}/").content.decode()
    assert "申请人" in page and "提出异议" in page and "NEW1" not in page


def test_a_notices_objections_are_read_and_recorded_only_by_the_roles_that_handle_them(world, clock, login):
    """The inside page of a notice shows every objection with the objector's name: a role without
    the read capability (an auditor, a support doctor) is refused, on the page, its print and the
    API; an objection is recorded on a resident's behalf only by a cadre who handles workflows."""
    from fupin.core import services as cs
    from fupin.workflows.models import Objection

    village = world.users["village_cadre"]
    inst = wf.start(actor=village, household=new_applicant(world), kind="identification")
    for key in ("application", "appraisal", "village_verification"):
        wf.act(actor=village, instance_id=inst.pk, step_key=key, decision="approve")
    notice = Notice.objects.get()
    clock["today"] = notice.start
    wf.objection_lodge(notice=notice, by_name="村民甲", content="收入偏高", via="web", ip="10.0.0.1")
    for role in ("auditor", "support_staff"):
        c = login(role)
        assert [c.get(f"/workflows/notices/{notice.pk}/{x}").status_code for x in ("", "pdf/")] == [403, 403]
        token = cs.token_create(actor=world.users[role], user=world.users[role], name="t")
        assert c.get("/api/v1/notices", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 403
    c = login("inspector")   # reads the notice, but records no objection for anyone
    assert "村民甲" in c.get(f"/workflows/notices/{notice.pk}/").content.decode()
    c.post(f"/workflows/notices/{notice.pk}/", {"by_name": "村民乙", "content": "督查代为登记"})
    c = login("village_cadre")
    c.post(f"/workflows/notices/{notice.pk}/", {"by_name": "村民丙", "content": "当面提出"})
    assert list(Objection.objects.order_by("pk").values_list("by_name", "via")) == [("村民甲", "web"), ("村民丙", "cadre")]
    token = cs.token_create(actor=village, user=village, name="t")
    assert c.get("/api/v1/notices", HTTP_AUTHORIZATION=f"Bearer {token}").json() == [
        {"id": notice.pk, "title": notice.title, "start": str(notice.start), "end": str(notice.end),
         "token": notice.token, "objections": 2, "unanswered": 2}]
    assert AuditEvent.objects.filter(actor__username="inspector", result="denied", summary="代为登记异议").count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="real concurrent connections need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_officers_on_the_same_step_produce_one_decision():
    from fupin.core.models import Region, User
    for code, name, level, parent in [("510000000000", "省", 1, None), ("513400000000", "州", 2, "510000000000"),
                                      ("513435000000", "县", 3, "513400000000"), ("513435100000", "镇", 4, "513435000000"),
                                      (V1, "村", 5, "513435100000")]:
        Region.objects.create(code=code, name=name, level=level, parent_id=parent)
    a = User.objects.create(username="a", role="village_cadre", region_id=V1, password_changed_at=timezone.now())
    b = User.objects.create(username="b", role="village_cadre", region_id=V1, password_changed_at=timezone.now())
    h = Household.objects.create(number="C1", village_id=V1, attribute="general", main_cause="illness", status="applied")
    inst = wf.start(actor=a, household=h, kind="identification")
    barrier, results = threading.Barrier(2), []

    def go(user):
        try:
            barrier.wait()
            wf.act(actor=user, instance_id=inst.pk, step_key="application", decision="approve", comment=user.username)
            results.append("ok")
        except FupinError as exc:
            results.append(exc.message)
        finally:
            connections.close_all()
    threads = [threading.Thread(target=go, args=(u,)) for u in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r if r == "ok" else "refused" for r in results) == ["ok", "refused"]
    assert Instance.objects.get(pk=inst.pk).actions.filter(step_key="application", decision="approve").count() == 1


def test_workflow_api(world, clock, client):
    from fupin.core import services as cs
    village = world.users["village_cadre"]
    token = cs.token_create(actor=village, user=village, name="app")
    h = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    hh = new_applicant(world)
    r = client.post("/api/v1/workflows", {"household_id": hh.pk, "kind": "identification"}, content_type="application/json", **h)
    assert (r.status_code, r.json()["step"], r.json()["state"]) == (201, "application", "in_progress")
    wid = r.json()["id"]
    for key in ("application", "appraisal", "village_verification"):
        r = client.post(f"/api/v1/workflows/{wid}/act", {"step_key": key, "decision": "approve"}, content_type="application/json", **h)
        assert r.status_code == 200
    assert r.json()["step"] == "township_review"
    r = client.post(f"/api/v1/workflows/{wid}/act", {"step_key": "township_review", "decision": "approve"},
                    content_type="application/json", **h)
    assert (r.status_code, r.json()["detail"]) == (400, "“乡镇审核并第二次公示”须由乡镇办理；前一级未完成前，上一级不能办理")
    notices = client.get("/api/v1/notices", **h).json()
    assert [(n["start"], n["end"], n["objections"]) for n in notices] == [("2025-03-03", "2025-03-09", 0)]
    r = client.post(f"/api/v1/notices/{notices[0]['id']}/objections", {"by_name": "李某", "content": "收入不实"},
                    content_type="application/json", **h)
    assert r.status_code == 201
    assert client.get("/api/v1/notices", **h).json()[0]["unanswered"] == 1


def test_county_bulk_approval_prints_one_announcement(world, clock, login, tmp_path):
    village, township, county = users(world)
    ids = []
    for n in range(2):
        h = Household.objects.create(number=f"B{n}", village_id=V1, attribute="general", main_cause="illness", status="applied")
        inst = wf.start(actor=village, household=h, kind="identification")
        for key in ("application", "appraisal", "village_verification"):
            inst = wf.act(actor=village, instance_id=inst.pk, step_key=key, decision="approve")
        clock["today"] = dt.date(2025, 3, 10)
        inst = wf.act(actor=township, instance_id=inst.pk, step_key="township_review", decision="approve")
        ids.append(inst.pk)
        clock["today"] = dt.date(2025, 3, 3)
    clock["today"] = dt.date(2025, 3, 17)
    c = login("county_officer")
    stage = c.get("/workflows/stage/513435000000/identification/4/").content.decode()
    assert stage.count('name="instances"') == 2
    r = c.post("/workflows/bulk-approve/", {"instances": ids})
    assert r["Location"] == "/workflows/announcement/"
    assert sorted(Household.objects.filter(number__startswith="B").values_list("status", flat=True)) == ["registered"] * 2
    pdf = c.get("/workflows/announcement/?pdf=1").content
    assert pdf[:4] == b"%PDF"
    from .test_printing import pdf_text, render
    text = pdf_text(pdf, tmp_path)
    assert [line.split()[0] for line in text.splitlines() if line.strip().startswith("户主")] == ["户主"]
    img = render(pdf, tmp_path, dpi=40)
    assert (img.width, img.height) == (331, 468) and sum(img.histogram()[:128]) > 1000


def test_home_page_reminds_of_waiting_steps(world, clock, login):
    village = world.users["village_cadre"]
    wf.start(actor=village, household=new_applicant(world), kind="identification")
    html = login("village_cadre").get(f"/regions/{V1}/").content.decode()
    assert '<a href="/workflows/todo/">1 个流程步骤等待您办理</a>' in html
