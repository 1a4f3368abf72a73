"""A year whose holiday arrangement is not entered (policies/calendar/ holds 2024–2026): every path that
counts a deadline into it answers the county officer, the public and a job's owner in Chinese, keeps
nothing half-done and never guesses a deadline; the message names no file."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from fupin.core.errors import FupinError
from fupin.jobs.models import Job
from fupin.monitoring import selectors, services
from fupin.monitoring.models import Batch, Declaration, Link, Warning
from fupin.workflows.models import Instance

from .conftest import V1, pid

MESSAGE = ("系统还没有录入 2027 年的法定节假日和调休安排，无法推算办理期限。"
           "请联系系统管理员按国务院办公厅 2027 年部分节假日安排的通知录入后再办理")
HEAD = "姓名,公民身份号码,性别,出生日期,住址,纳入日期"


def beijing(*args):
    return dt.datetime(*args, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def year_end():
    """30 December 2026, a Wednesday: two working days later is in 2027."""
    import time_machine

    with time_machine.travel(beijing(2026, 12, 30, 10, 0), tick=True):
        yield


def test_the_public_declaration_form_sends_the_resident_to_the_village_and_keeps_nothing(world, client, year_end):
    r = client.post("/monitoring/declare/", {"name": "张三", "id_number": pid("1970-05-01", 11),
                                             "phone": "13800000000", "village": V1, "difficulty": "妻子住院，花费很大"})
    page = r.content.decode()
    assert r.status_code == 400 and "网上申报暂时不能受理：系统还不能推算受理期限。请直接到村委会申报，或拨打 12317" in page
    assert 'value="妻子住院，花费很大"' in page or ">妻子住院，花费很大</textarea>" in page   # kept for the resident
    assert Declaration.objects.count() == 0
    with pytest.raises(FupinError) as exc:   # a cadre entering it for the resident is told what is missing
        services.declaration_lodge(name="张三", id_number=pid("1970-05-01", 11), phone="13800000000", village_code=V1,
                                   difficulty="妻子住院，花费很大", actor=world.users["village_cadre"])
    assert (exc.value.message, Declaration.objects.count()) == (MESSAGE, 0)


def test_a_department_list_is_kept_and_its_comparison_waits_for_the_calendar(world, login, year_end):
    from django.core.files.uploadedfile import SimpleUploadedFile

    world.h1.status = "exited"
    world.h1.save(update_fields=["status"])
    data = f"{HEAD}\n张三,{pid('1970-05-01', 11)},男,1970-05-01,,2026-10-08\n".encode()
    c = login("township_officer")
    r = c.post("/monitoring/", {"kind": "dibao", "source": "县民政局", "as_of": "2026-12-01",
                                "file": SimpleUploadedFile("dibao.csv", data)})
    job, batch = Job.objects.get(), Batch.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/jobs/{job.pk}/"
    assert (job.status, job.message, job.link) == (
        "failed", f"已导入 1 行，但未能完成比对：{MESSAGE}。处理后重新提交同一文件即可完成比对", f"/monitoring/batches/{batch.pk}/")
    assert (batch.linked_at, Link.objects.count(), Warning.objects.count()) == (None, 0, 0)
    assert MESSAGE in c.get(f"/jobs/{job.pk}/").content.decode()


def test_a_workflow_is_not_started_without_its_deadlines(world, year_end):
    from fupin.workflows import services as workflows

    world.h1.status = "exited"
    world.h1.save(update_fields=["status"])
    with pytest.raises(FupinError) as exc:
        workflows.start(actor=world.users["village_cadre"], household=world.h1, kind="monitoring",
                        channel="cadre", monitored_type="sudden", comment="入户核实")
    assert (exc.value.message, Instance.objects.count()) == (MESSAGE, 0)


def test_an_answer_in_a_year_not_entered_leaves_the_response_figure_out(world, login):
    import time_machine

    world.h1.status = "exited"
    world.h1.save(update_fields=["status"])
    user = world.users["civil_affairs"]
    with time_machine.travel(beijing(2026, 11, 2, 9, 0), tick=True):
        data = f"{HEAD}\n张三,{pid('1970-05-01', 11)},男,1970-05-01,,2026-10-08\n".encode()
        batch = services.batch_import(actor=user, kind="dibao", source="县民政局", as_of=dt.date(2026, 11, 1),
                                      data=data, filename="dibao.csv").batch
        services.batch_link(actor=user, batch_id=batch.pk)
    Warning.objects.update(state="dismissed", decided_at=beijing(2027, 1, 5, 10, 0))
    with time_machine.travel(beijing(2027, 1, 6, 9, 0), tick=True):
        assert selectors.response_days(world.users["county_officer"]) is None
        r = login("county_officer").get("/monitoring/")
    assert r.status_code == 200 and 'id="response-days"' not in r.content.decode()


@pytest.mark.parametrize("now, ends", [(beijing(2026, 11, 2, 10, 0), "2026-11-02"),
                                       (beijing(2026, 12, 30, 10, 0), "2026-12-02"),
                                       (beijing(2027, 1, 11, 10, 0), "2026-11-30")])
def test_the_demo_command_seeds_the_same_county_to_play_and_says_when_its_history_ends(
        db, settings, capsys, monkeypatch, now, ends):
    """The README's first command, run late in a year or early in the next before that year's arrangement is
    entered: the demo's workflows, findings and application end on the last week whose deadlines fit (the
    longest span the pack counts at once is 20 working days), and the demo is the same as on a covered day."""
    import time_machine

    from fupin.cli.main import main
    from fupin.demo.play import history_day
    from fupin.welfare.models import Application

    monkeypatch.setenv("FUPIN_DEMO", "1")
    settings.DEMO = True
    with time_machine.travel(now, tick=True):
        assert history_day(now.date()).isoformat() == ends
        assert main(["demo", "--no-serve", "--persons", "400", "--households", "120"]) == 0
    out = capsys.readouterr().out
    note = (f"注意：系统还没有录入 2027 年的法定节假日和调休安排，期限跨入该年的流程暂时不能发起；"
            f"演示村里停在各级的流程和比对预警按 {ends} 生成。录入方法见 docs/policy-packs.md。")
    assert (note in out, "其中一户正在公示 7 天" in out) == ((False, True) if now.month == 11 else (True, False))
    assert (Instance.objects.count(), Warning.objects.count(), Application.objects.count()) == (5, 24, 1)
