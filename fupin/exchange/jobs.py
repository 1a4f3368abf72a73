"""The household import and the region export as background jobs (fupin/jobs)."""
from __future__ import annotations

import secrets

from fupin.jobs.services import Outcome

from . import households, uploads


def save_error_workbook(user, data: bytes) -> str:
    """The marked workbook of a refused import, private to its owner (the token starts with the
    user's id) and swept after FILE_RETENTION_HOURS; returns its token."""
    uploads.sweep()
    token = f"{user.pk}-{secrets.token_hex(8)}"
    uploads.write_private(uploads.private_dir("import-errors") / f"{token}.xlsx", data)
    return token


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
