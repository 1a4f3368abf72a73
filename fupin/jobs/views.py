from __future__ import annotations

from urllib.parse import quote

from django.http import HttpResponse, JsonResponse

from django.shortcuts import render

from fupin.core.errors import NotFound
from fupin.core.listing import Column, Filter, listing
from fupin.core.views import fupin_view

from . import selectors
from .models import JobStatus

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

COLUMNS = [
    Column("id", "编号", lambda j: j.pk, order="id"),
    Column("title", "任务", lambda j: j.title, order="title"),
    Column("status", "状态", lambda j: j.get_status_display(), order="status"),
    Column("created", "提交时间", lambda j: j.created_at, order="created_at"),
]
FILTERS = [Filter("status", "状态", tuple(JobStatus.choices), lambda qs, v: qs.filter(status=v))]


@fupin_view
def my_jobs(request):
    rows = listing(request, selectors.jobs_for(request.user), COLUMNS, filters=FILTERS, default_sort="-id",
                   page_size=20)
    return render(request, "jobs/list.html", {"listing": rows})


@fupin_view
def job_page(request, pk):
    return render(request, "jobs/job.html", {"job": selectors.access_job(request.user, pk)})


@fupin_view
def job_status(request, pk):
    job = selectors.access_job(request.user, pk)
    return JsonResponse({"status": job.status, "status_label": job.get_status_display(), "done": job.done,
                         "total": job.total, "percent": job.percent, "stage": job.stage,
                         "finished": job.finished}, json_dumps_params={"ensure_ascii": False})


@fupin_view
def job_download(request, pk):
    job = selectors.access_job(request.user, pk)
    if not job.output:
        raise NotFound("该任务没有可下载的文件")
    response = HttpResponse(bytes(job.output), content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(job.output_name or '导出.xlsx')}"
    return response
