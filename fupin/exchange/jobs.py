"""The household import and the region export as background jobs (fupin/jobs)."""
from __future__ import annotations

from fupin.jobs.services import Outcome

from . import households
from .uploads import save_error_workbook


def household_import(job) -> Outcome:
    report = households.run_import(job.owner, bytes(job.upload), job.upload_name,
                                   dry_run=bool(job.params.get("dry_run")))
    link = ""
    if report.error_workbook:
        link = f"/exchange/errors/{save_error_workbook(job.owner, report.error_workbook)}/"
    return Outcome(message=report.summary(), ok=report.ok, problems=[str(p) for p in report.problems[:200]],
                   error_link=link, link="" if report.ok and not report.dry_run else "")


def household_export(job) -> Outcome:
    code = job.params["region"]
    data, count = households.export_households(job.owner, code)   # audited there, with its count
    return Outcome(message=f"导出完成：共 {count} 人", output=data, output_name=f"户籍成员_{code}.xlsx")
