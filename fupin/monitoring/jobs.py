"""A department list import (and its linkage) as a background job (fupin/jobs)."""
from __future__ import annotations

import datetime as dt

from django.utils import timezone

from fupin.core.errors import FupinError
from fupin.exchange.uploads import save_error_workbook
from fupin.jobs.services import Outcome

from . import services


def list_import(job) -> Outcome:
    p = job.params
    report = services.batch_import(actor=job.owner, kind=p.get("kind", ""), source=p.get("source", ""),
                                   as_of=dt.date.fromisoformat(p["as_of"]) if p.get("as_of") else None,
                                   data=bytes(job.upload), filename=job.upload_name)
    if not report.ok:
        link = ""
        if report.error_workbook:
            link = f"/monitoring/errors/{save_error_workbook(job.owner, report.error_workbook)}/"
        return Outcome(message=f"发现 {len(report.problems)} 处错误，未导入任何数据", ok=False,
                       problems=[str(x) for x in report.problems[:200]], error_link=link)
    batch = report.batch
    if report.created or batch.linked_at is None:  # a batch whose linking failed is linked now
        try:
            services.batch_link(actor=job.owner, batch_id=batch.pk)
        except FupinError as exc:   # the rows are kept; the same file sent again links them
            return Outcome(message=f"已导入 {batch.rows} 行，但未能完成比对：{exc.message}。处理后重新提交同一文件即可完成比对",
                           ok=False, link=f"/monitoring/batches/{batch.pk}/")
        return Outcome(message=f"已导入 {batch.rows} 行并完成比对", link=f"/monitoring/batches/{batch.pk}/")
    return Outcome(message=f"该文件已于 {timezone.localtime(batch.imported_at):%Y-%m-%d %H:%M} 导入过"
                           f"（批次 {batch.pk}），没有新的内容", link=f"/monitoring/batches/{batch.pk}/")
