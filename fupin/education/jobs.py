"""The roster import and the semester run as background jobs (fupin/jobs)."""
from __future__ import annotations

from fupin.core.errors import FupinError
from fupin.funds.models import Account, AccountKind
from fupin.jobs.services import Outcome

from . import services
from .importer import import_roster


def roster_import(job) -> Outcome:
    report = import_roster(job.owner, bytes(job.upload), job.upload_name, dry_run=bool(job.params.get("dry_run")))
    if not report.ok:
        return Outcome(message=f"发现 {len(report.problems)} 处错误，未导入任何数据", ok=False,
                       problems=[str(p) for p in report.problems[:200]])
    verb = "试导入（未保存）" if job.params.get("dry_run") else "导入完成"
    return Outcome(message=f"{verb}：新增 {report.created}、更新 {report.updated}、无变化 {report.unchanged}")


def semester_run(job) -> Outcome:
    budget = Account.objects.filter(pk=job.params.get("budget"), kind=AccountKind.BUDGET,
                                    programme="education").first()
    if budget is None:
        raise FupinError("请选择支付所用的预算科目")
    run = services.run_compute(actor=job.owner, semester=job.params.get("semester", ""),
                               region_code=job.params.get("region", ""), budget=budget)
    return Outcome(message=f"已计算（编号 {run.pk}）：{run.lines_count} 项，请审核", link=f"/education/runs/{run.pk}/")
