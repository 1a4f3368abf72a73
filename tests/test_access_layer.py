"""The access layer beyond money: status only through workflows, region-scoped audit and
ledger reports, no other region's household named in a message."""
import io

import pytest
from openpyxl import Workbook

from fupin.core import audit
from fupin.core import services as core_services
from fupin.core.errors import AccessDenied, InvalidInput
from fupin.core.models import AuditAction, AuditEvent
from fupin.exchange import households as hx
from fupin.registry import services
from fupin.registry.models import Household

from .conftest import V1, V2, pid, shows_word

HEADERS = [c.header for c in hx.COLUMNS]


def xlsx(rows) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(HEADERS)
    for values in rows:
        ws.append([values.get(h) for h in HEADERS])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def row(number, status, id_number, village=V1, relation="户主", name="甲"):
    return {"户编号": number, "村代码": village, "贫困户属性": "一般贫困户", "主要致贫原因": "因病", "户状态": status,
            "姓名": name, "证件号码": id_number, "与户主关系": relation, "劳动技能": "普通劳动力"}


def problems(report):
    return [str(p) for p in report.problems]


# ---- a status changes only through the workflows ---------------------------------------------

def test_service_creates_every_new_household_as_applied_and_refuses_another_status(world):
    officer = world.users["county_officer"]
    data = {"number": "N9", "village": world.h1.village, "attribute": "general", "main_cause": "illness"}
    h = services.household_create(actor=officer, data=data)
    assert (h.status, Household.objects.filter(number="N9").count()) == ("applied", 1)
    with pytest.raises(InvalidInput) as exc:
        services.household_create(actor=officer, data=data | {"number": "N10", "status": "registered"})
    assert exc.value.message == ("户状态：新户只能是“待识别”，户状态只能通过识别、退出、监测等流程改变；"
                                 "请保存后在户页面发起识别流程")
    assert not Household.objects.filter(number="N10").exists()


def test_update_never_changes_status(world):
    officer = world.users["county_officer"]
    services.household_update(actor=officer, household=world.h1, data={"status": "exited", "phone": "13912345678"})
    world.h1.refresh_from_db()
    assert (world.h1.status, world.h1.phone) == ("registered", "13912345678")


def test_api_cannot_create_a_registered_household(client, world):
    user = world.users["county_officer"]
    token = core_services.token_create(actor=user, user=user, name="t")
    body = {"number": "A1", "village": V1, "attribute": "general", "main_cause": "illness", "status": "registered"}
    r = client.post("/api/v1/households", body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert r.status_code == 400
    assert "户状态只能通过识别、退出、监测等流程改变" in r.json()["detail"]
    assert not Household.objects.filter(number="A1").exists()
    r = client.post("/api/v1/households", body | {"status": None}, content_type="application/json",
                    HTTP_AUTHORIZATION=f"Bearer {token}")
    assert (r.status_code, Household.objects.get(number="A1").status) == (201, "applied")


def test_import_cannot_change_an_existing_households_status(world):
    officer = world.users["county_officer"]
    head = world.h1.persons.get(relation="head")
    report = hx.run_import(officer, xlsx([row("H1", "已脱贫", head.id_number, name=head.name)]), "a.xlsx")
    assert problems(report) == ["第2行G列（户状态）：户状态只能通过识别、退出、监测等流程改变：库中为“贫困户”，"
                                "导入不能修改；请在系统中发起相应流程"]
    world.h1.refresh_from_db()
    assert world.h1.status == "registered"


def test_import_brings_new_households_in_as_applied_only(world):
    officer = world.users["county_officer"]
    report = hx.run_import(officer, xlsx([row("N1", "贫困户", pid("1980-01-01", 11))]), "a.xlsx")
    assert problems(report) == ["第2行G列（户状态）：新户只能以“待识别”导入（户状态只能通过识别、退出、监测等流程改变），"
                                "导入后请发起识别流程"]
    assert not Household.objects.filter(number="N1").exists()
    report = hx.run_import(officer, xlsx([row("N1", "待识别", pid("1980-01-01", 11))]), "a.xlsx")
    assert (problems(report), Household.objects.get(number="N1").status) == ([], "applied")


def test_initial_load_keeps_statuses_and_is_for_the_county_administrator_only(world):
    data = xlsx([row("N1", "贫困户", pid("1980-01-01", 11))])
    with pytest.raises(AccessDenied):
        hx.run_import(world.users["county_officer"], data, "a.xlsx", initial_load=True)
    assert not Household.objects.filter(number="N1").exists()
    report = hx.run_import(world.users["county_admin"], data, "a.xlsx", initial_load=True)
    assert (problems(report), Household.objects.get(number="N1").status) == ([], "registered")


def test_import_error_does_not_name_a_household_of_another_region(world):
    stranger = world.h3.persons.get()  # lives in the other county
    report = hx.run_import(world.users["county_officer"],
                           xlsx([row("N1", "待识别", stranger.id_number, village=V2)]), "a.xlsx")
    assert problems(report) == [
        "第2行R列（证件号码）：此人已登记在其他辖区的户中；请在系统中办理户间迁移，不能用导入改户"]
    assert "H3" not in " ".join(problems(report))


# ---- audit log scoped to the reader's region ---------------------------------------------------

def test_auditor_reads_only_the_audit_records_of_its_region(world):
    from fupin.core import access

    officer, stranger = world.users["county_officer"], world.users["county_admin"]
    stranger.region_id = "513436000000"  # an administrator of the other county
    stranger.save()
    before = set(access.audit_events_for(world.users["auditor"]).values_list("pk", flat=True))
    mine = audit.record(officer, AuditAction.UPDATE, object_type="household", object_id=world.h1.pk,
                        household_id=world.h1.pk, summary="本县")
    theirs = audit.record(stranger, AuditAction.UPDATE, object_type="household", object_id=world.h3.pk,
                          household_id=world.h3.pk, summary="外县")
    about_ours = audit.record(stranger, AuditAction.REVEAL, object_type="household", object_id=world.h1.pk,
                              household_id=world.h1.pk, summary="外县人员查看本县户")
    seen = set(access.audit_events_for(world.users["auditor"]).values_list("pk", flat=True)) - before
    assert seen == {mine.pk, about_ours.pk}
    assert theirs.pk not in seen
    with pytest.raises(AccessDenied):
        access.audit_events_for(world.users["county_officer"])


# ---- workflows: bulk approval, notices, objections ----------------------------------------------

@pytest.fixture
def clock(monkeypatch):
    import datetime as dt

    from fupin.workflows import services as wf
    state = {"today": dt.date(2025, 3, 3)}
    monkeypatch.setattr(wf, "today", lambda: state["today"])
    return state


def _at_county_step(world, clock, number, village_code=V1):
    import datetime as dt

    from fupin.workflows import services as wf
    village, township = world.users["village_cadre"], world.users["township_officer"]
    h = Household.objects.create(number=number, village_id=village_code, attribute="general", main_cause="illness",
                                 status="applied")
    inst = wf.start(actor=village, household=h, kind="identification")
    for key in ("application", "appraisal", "village_verification"):
        inst = wf.act(actor=village, instance_id=inst.pk, step_key=key, decision="approve")
    clock["today"] = dt.date(2025, 3, 10)
    inst = wf.act(actor=township, instance_id=inst.pk, step_key="township_review", decision="approve")
    clock["today"] = dt.date(2025, 3, 3)
    return inst


def test_bulk_approval_checks_each_instance_step_and_scope(world, clock, login):
    import datetime as dt

    from django.contrib.messages import get_messages

    from fupin.core.models import Region, User
    from fupin.workflows import services as wf
    ours = _at_county_step(world, clock, "B1")
    moved_on = _at_county_step(world, clock, "B2")
    # an instance of the other county, reachable only by guessing its number
    other_cadre = User.objects.create(username="other_cadre", role="village_cadre", region_id="513436100200")
    other_h = Household.objects.create(number="X9", village_id="513436100200", attribute="general",
                                       main_cause="illness", status="applied")
    theirs = wf.start(actor=other_cadre, household=other_h, kind="identification")
    clock["today"] = dt.date(2025, 3, 17)
    step = ours.current["key"]
    wf.act(actor=world.users["county_officer"], instance_id=moved_on.pk, step_key=step, decision="reject",
           comment="材料不全")
    c = login("county_officer")
    r = c.post("/workflows/bulk-approve/", {"instances": [ours.pk, moved_on.pk, theirs.pk], "step": step})
    assert r["Location"] == "/workflows/announcement/"
    texts = [m.message for m in get_messages(r.wsgi_request)]
    assert texts[0].startswith("B2：已不在该环节")
    assert texts[0].endswith("；1 个流程找不到，或不在您的管辖范围内")
    assert "X9" not in " ".join(texts)
    assert texts[1] == "已审定 1 户"
    statuses = dict(Household.objects.filter(number__in=["B1", "B2", "X9"]).values_list("number", "status"))
    assert statuses == {"B1": "registered", "B2": "applied", "X9": "applied"}
    assert Region.objects.filter(code="513436100200").exists()
    r = c.post("/workflows/bulk-approve/", {"instances": ["abc"]})
    assert r.status_code == 400


def test_anonymous_objections_are_throttled_per_address_and_closed_notices_hide_their_content(
        world, clock, client, settings):
    import datetime as dt

    from fupin.workflows.models import Notice, Objection
    settings.OBJECTION_IP_MAX_PER_HOUR = 2
    inst = _at_county_step(world, clock, "B1")
    notice = Notice.objects.filter(instance=inst).order_by("-id").first()
    clock["today"] = notice.start
    url = f"/public/notices/{notice.token}/"
    for i in range(2):
        assert client.post(url, {"by_name": f"村民{i}", "content": "收入不实"}, REMOTE_ADDR="10.0.0.1").status_code == 200
    r = client.post(url, {"by_name": "村民3", "content": "收入不实"}, REMOTE_ADDR="10.0.0.1")
    assert r.status_code == 400
    assert "同一网络地址每小时最多提交 2 条异议" in r.content.decode()
    assert client.post(url, {"by_name": "村民4", "content": "收入不实"}, REMOTE_ADDR="10.0.0.2").status_code == 200
    assert Objection.objects.filter(notice=notice).count() == 3
    clock["today"] = notice.end + dt.timedelta(days=1)
    page = client.get(url).content.decode()
    assert not shows_word(page, "B1") and "本公示不在公示期内" in page and "提出异议" not in page


# ---- exports and bulk prints: a permission and an audit row with the number of persons -------

def test_bulk_print_of_four_cards_needs_export_and_is_logged_with_persons(world, login):
    r = login("pairing_helper").get(f"/pairing/cards/{V1}.pdf")
    assert r.status_code == 403
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT).exists()
    r = login("pairing_helper").get(f"/pairing/cards/{world.h1.pk}.pdf")  # one household's cards: allowed
    assert (r.status_code, r.content[:4]) == (200, b"%PDF")
    e = AuditEvent.objects.get(action=AuditAction.EXPORT)
    assert (e.actor.username, e.object_type, e.detail["persons"], e.summary) == (
        "pairing_helper", "four_cards", 3, "打印四卡（1 户）：3 人（身份证号已脱敏）")
    r = login("county_officer").get(f"/pairing/cards/{V1}.pdf")
    assert r.status_code == 200
    e = AuditEvent.objects.filter(action=AuditAction.EXPORT).latest("id")
    assert (e.actor.username, e.object_id, e.detail["persons"]) == ("county_officer", V1, 3)


def test_a_role_that_may_not_start_a_workflow_writes_no_evidence_file(world, login, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from fupin.core.models import AuditResult
    from fupin.workflows.models import Instance
    settings.MEDIA_ROOT = str(tmp_path)
    c = login("health_officer")  # reads the household, may not start workflows
    r = c.post(f"/workflows/start/{world.h1.pk}/", {"kind": "exit",
                                                    "evidence": SimpleUploadedFile("a.pdf", b"%PDF-1.4")})
    assert r.status_code == 302
    assert list(tmp_path.rglob("*")) == [] and not Instance.objects.exists()
    e = AuditEvent.objects.get(result=AuditResult.DENIED)
    assert (e.actor.username, e.object_id) == ("health_officer", "workflow_start")
