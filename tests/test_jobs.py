"""Background jobs (fupin/jobs): imports, the export and the semester run run as jobs with
progress and a result page; a job is its owner's alone; failures say why in Chinese; and the
real database worker (django-tasks-db) runs a queued job end to end."""
import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from fupin.core import progress
from fupin.core.models import AuditAction, AuditEvent
from fupin.jobs import services
from fupin.jobs.models import Job
from fupin.registry.models import Household, Person

from .conftest import COUNTY, V1, pid
from .test_education import SEM, edu  # noqa: F401  (the fixture)
from .test_import import row, xlsx


def heads(n):
    born = dt.date(1960, 1, 1)
    return [row(number=f"J{i:04d}", name=f"户主{i}", id_number=pid((born + dt.timedelta(days=i)).isoformat(), 11))
            for i in range(1, n + 1)]


def test_an_import_runs_as_a_job_with_progress_and_a_result_page(world, login):
    c = login("county_officer")
    r = c.post("/exchange/", {"file": io.BytesIO(xlsx(heads(1000)))})
    job = Job.objects.get()
    assert (r.status_code, r["Location"]) == (302, f"/jobs/{job.pk}/")
    assert (job.kind, job.title, job.status, job.owner.username) == (
        "household_import", "导入户籍成员：file", "done", "county_officer")
    assert (job.done, job.total, job.percent, job.upload) == (1000, 1000, 100, None)   # the upload is dropped
    assert job.message == "导入完成：共 1000 行；户 新增 1000、更新 0、无变化 0；人 新增 1000、更新 0、无变化 0"
    assert Household.objects.filter(number__startswith="J").count() == 1000
    html = c.get(f"/jobs/{job.pk}/").content.decode()
    assert "状态：<b id=\"job-status\">已完成</b>" in html and job.message in html and "jobs.js" not in html
    assert json.loads(c.get(f"/jobs/{job.pk}/status/").content) == {
        "status": "done", "status_label": "已完成", "done": 1000, "total": 1000, "percent": 100, "stage": "",
        "finished": True}
    mine = c.get("/jobs/").content.decode()
    assert f'<a href="/jobs/{job.pk}/">导入户籍成员：file</a>' in mine and "共 1 条" in mine
    assert AuditEvent.objects.filter(object_type="job", object_id=str(job.pk)).get().summary == \
        "提交后台任务：导入户籍成员：file"


def test_progress_is_written_on_the_job_row_and_shown_while_it_runs(world, login):
    owner = world.users["county_officer"]
    job = Job.objects.create(owner=owner, kind="household_import", title="导入户籍成员：大文件.xlsx", status="running")
    with progress.listening(services._Recorder(job.pk)):
        progress.report(1000, 4000, "检查数据")
        progress.report(2000, 4000, "检查数据")   # within half a second of the last: not written
        progress.report(4000, 4000, "写入数据库")  # a new stage: written at once
    job.refresh_from_db()
    assert (job.done, job.total, job.stage, job.percent) == (4000, 4000, "写入数据库", 99)
    Job.objects.filter(pk=job.pk).update(done=1000, stage="检查数据")
    html = login("county_officer").get(f"/jobs/{job.pk}/").content.decode()
    assert '<progress id="job-progress" max="100" value="25">' in html
    assert "检查数据：1000 / 4000 行" in html and 'src="/static/jobs.js"' in html
    progress.report(1, 2, "无人在听")   # outside a job: nothing happens


def test_another_users_job_is_not_found(world, login, client):
    c = login("county_officer")
    c.get(f"/exchange/export.xlsx?region={COUNTY}")
    job = Job.objects.get()
    assert c.get(f"/jobs/{job.pk}/download/").status_code == 200
    client.logout()
    other = login("county_admin")   # same region, higher role: still not theirs
    for url in (f"/jobs/{job.pk}/", f"/jobs/{job.pk}/status/", f"/jobs/{job.pk}/download/"):
        r = other.get(url)
        assert (r.status_code, f"找不到任务 {job.pk}；任务只有提交它的人能看到" in r.content.decode()) == (404, True), url
    assert "共 0 条" in other.get("/jobs/").content.decode()


def test_the_export_job_makes_the_audited_workbook_for_its_owner(world, login):
    c = login("county_officer")
    r = c.get(f"/exchange/export.xlsx?region={COUNTY}")
    job = Job.objects.get()
    assert r["Location"] == f"/jobs/{job.pk}/"
    assert (job.status, job.message, job.output_name) == ("done", "导出完成：共 5 人", f"户籍成员_{COUNTY}.xlsx")
    ws = load_workbook(io.BytesIO(c.get(f"/jobs/{job.pk}/download/").content)).active
    assert ws.max_row == 6 and ws.cell(1, 1).value == "户编号"
    [event] = AuditEvent.objects.filter(action=AuditAction.EXPORT)
    assert (event.actor.username, event.object_id, event.detail["persons"]) == ("county_officer", COUNTY, 5)


def test_a_failing_import_job_shows_its_message_and_the_error_workbook(world, login, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    c = login("county_officer")
    c.post("/exchange/", {"file": io.BytesIO(xlsx([row(id_number="513435198001010112")]))})
    job = Job.objects.get()
    assert (job.status, job.message) == ("failed", "发现 1 处错误，未导入任何数据")
    assert job.problems == ["第2行R列（证件号码）：校验码错误：最后一位应为 4，实际为 2"]
    html = c.get(f"/jobs/{job.pk}/").content.decode()
    assert "状态：<b id=\"job-status\">未完成</b>" in html and job.problems[0] in html
    assert f'href="{job.error_link}">下载错误标注工作簿' in html
    wb = c.get(job.error_link)
    assert wb.status_code == 200 and b"".join(wb.streaming_content)[:2] == b"PK"
    assert Person.objects.count() == 6


def test_a_job_that_breaks_ends_failed_with_a_message_not_a_traceback(world):
    owner = world.users["county_officer"]
    job = services.job_submit(actor=owner, kind="household_import", title="导入户籍成员：坏.xlsx",
                              params={"dry_run": True}, upload=None)   # no file at all: the handler breaks
    assert (job.status, job.message) == (
        "failed", f"任务运行出错，没有保存任何数据。请稍后重试；如仍出错，请把任务编号 {job.pk} 告诉系统管理员")
    assert services.job_execute(job.pk) is None   # run once only


def test_the_semester_run_is_a_job_whose_result_links_the_run(edu, login):  # noqa: F811
    c = login("school_aid")
    r = c.post("/education/", {"semester": SEM, "region": "513435100000", "budget": edu["budget"].pk})
    job = Job.objects.get()
    assert r["Location"] == f"/jobs/{job.pk}/" and job.status == "done", job.message
    from fupin.education.models import SubsidyRun

    run = SubsidyRun.objects.get()
    assert (job.message, job.link) == (f"已计算（编号 {run.pk}）：3 项，请审核", f"/education/runs/{run.pk}/")
    r = c.post("/education/", {"semester": "2024年冬季", "region": "513435100000", "budget": edu["budget"].pk})
    assert r.status_code == 200 and Job.objects.count() == 1   # a typing slip is answered at once


@pytest.mark.django_db(transaction=True)
def test_the_database_worker_runs_a_queued_job_end_to_end(world, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    from django_tasks_db.models import DBTaskResult

    job = services.job_submit(actor=world.users["county_officer"], kind="household_import",
                              title="导入户籍成员：x.xlsx", params={"dry_run": False},
                              upload=xlsx([row(number="W1", village=V1)]), upload_name="x.xlsx")
    assert (job.status, DBTaskResult.objects.get().status) == ("queued", "READY")   # queued, not run
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", "--interval", "0.1", verbosity=0)
    job.refresh_from_db()
    assert (job.status, job.message) == ("done", "导入完成：共 1 行；户 新增 1、更新 0、无变化 0；人 新增 1、更新 0、无变化 0")
    assert DBTaskResult.objects.get().status == "SUCCESSFUL" and Household.objects.filter(number="W1").exists()


@pytest.mark.django_db(transaction=True)
def test_fupin_worker_once_runs_what_is_queued_and_exits(world, settings, capsys):
    from fupin.cli.main import main

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    job = services.job_submit(actor=world.users["county_officer"], kind="household_export",
                              title="导出 甘洛县 户籍成员", params={"region": COUNTY})
    assert job.status == "queued"
    assert main(["worker", "--once", "--interval", "0.1"]) == 0
    job.refresh_from_db()
    assert (job.status, job.message, job.done, job.total) == ("done", "导出完成：共 5 人", 0, 0)
