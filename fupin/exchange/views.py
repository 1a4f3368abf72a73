from __future__ import annotations

from django.http import FileResponse, HttpResponse, Http404
from django.shortcuts import redirect, render

from fupin.core import access
from fupin.core.errors import FupinError
from fupin.core.roles import Cap
from fupin.core.views import fupin_view
from fupin.jobs.services import job_submit

from . import households, uploads
from .excel import Problem

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _xlsx(data: bytes, name: str) -> HttpResponse:
    response = HttpResponse(data, content_type=XLSX)
    from urllib.parse import quote
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return response


def error_workbook_download(request, token: str, filename: str) -> FileResponse:
    """A refused import's marked workbook, to the user it was made for, while it is kept."""
    path = uploads.saved_error_workbook(request.user, token)
    if path is None:
        raise Http404
    return FileResponse(path.open("rb"), as_attachment=True, filename=filename, content_type=XLSX)


@fupin_view
def exchange_page(request):
    # The permission is checked before request.FILES is touched: the upload is parsed (into
    # memory only, see uploads.py) and anything is written only after this line.
    access.require(request.user, Cap.IMPORT)
    report = None
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            raise FupinError("请选择要导入的 Excel 或 CSV 文件")
        too_large = uploads.too_large_message(upload)
        if too_large:
            report = households.ImportReport(filename=upload.name, sha256="")
            report.problems.append(Problem(None, None, None, None, too_large))
        else:  # checked and read here; parsed, checked and saved by a background job
            dry_run = bool(request.POST.get("dry_run"))
            job = job_submit(actor=request.user, kind="household_import", params={"dry_run": dry_run},
                             title=f"{'试导入' if dry_run else '导入'}户籍成员：{upload.name}",
                             upload=upload.read(), upload_name=upload.name)
            return redirect(f"/jobs/{job.pk}/")
    return render(request, "exchange/page.html", {"report": report, "region": request.user.region})


@fupin_view
def error_workbook(request, token):
    return error_workbook_download(request, token, "导入错误标注.xlsx")


@fupin_view
def template_download(request):
    access.require(request.user, Cap.READ)
    return _xlsx(households.template_workbook(), "户籍成员导入模板.xlsx")


@fupin_view
def export_download(request):
    """A region's export takes a while at county size: it is made by a background job, and the
    file is downloaded from the job's page (by its owner only). Refusals come here, at once."""
    code = request.GET.get("region") or request.user.region_id
    access.require(request.user, Cap.EXPORT)
    region = access.access_region(request.user, code)
    job = job_submit(actor=request.user, kind="household_export", params={"region": region.code},
                     title=f"导出 {region.name} 户籍成员")
    return redirect(f"/jobs/{job.pk}/")
