from __future__ import annotations

import secrets
import time

from django.conf import settings
from django.http import FileResponse, HttpResponse, Http404
from django.shortcuts import render

from fupin.core import access
from fupin.core.errors import FupinError
from fupin.core.roles import Cap
from fupin.core.views import fupin_view

from . import households, uploads
from .excel import Problem

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _xlsx(data: bytes, name: str) -> HttpResponse:
    response = HttpResponse(data, content_type=XLSX)
    from urllib.parse import quote
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return response


def _errors_dir():
    return uploads.private_dir("import-errors")


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
        else:
            report = households.run_import(request.user, upload.read(), upload.name,
                                           dry_run=bool(request.POST.get("dry_run")))
        if report.error_workbook:
            uploads.sweep()  # error workbooks older than FILE_RETENTION_HOURS go as new ones come
            token = f"{request.user.pk}-{secrets.token_hex(8)}"
            uploads.write_private(_errors_dir() / f"{token}.xlsx", report.error_workbook)
            report.error_token = token
    return render(request, "exchange/page.html", {"report": report, "region": request.user.region})


@fupin_view
def error_workbook(request, token):
    if not token.startswith(f"{request.user.pk}-") or not all(c.isalnum() or c == "-" for c in token):
        raise Http404
    path = _errors_dir() / f"{token}.xlsx"
    if not path.exists() or time.time() - path.stat().st_mtime > settings.FILE_RETENTION_HOURS * 3600:
        raise Http404
    return FileResponse(path.open("rb"), as_attachment=True, filename="导入错误标注.xlsx", content_type=XLSX)


@fupin_view
def template_download(request):
    access.require(request.user, Cap.READ)
    return _xlsx(households.template_workbook(), "户籍成员导入模板.xlsx")


@fupin_view
def export_download(request):
    code = request.GET.get("region") or request.user.region_id
    data, _ = households.export_households(request.user, code)
    return _xlsx(data, f"户籍成员_{code}.xlsx")
