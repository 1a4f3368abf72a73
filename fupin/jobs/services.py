"""Submitting and running background jobs (issue 13 §3, ADR 0012).

A view checks the user's permission and the upload (as before), then `job_submit` stores the
job and queues it; the browser goes to the job's page, which shows the progress and, at the end,
the result. A worker (`fupin worker`, started beside the web server by `fupin serve` and
`fupin demo`) takes the job and calls `job_execute`, which runs the room's handler as the job's
owner: the same service as before, with the same permission checks and audit rows, while
`fupin.core.progress` reports how far it is.

Handlers live in the rooms that own the work and are named here by dotted path, so this room
depends on core only and the rooms import it, not the other way round.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.module_loading import import_string

from fupin.core import audit, progress
from fupin.core.errors import FupinError
from fupin.core.models import AuditAction, User

from .models import Job, JobStatus

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Kind:
    title: str           # the Chinese name in 我的任务
    handler: str         # dotted path of handler(job) -> Outcome


KINDS = {
    "household_import": Kind("户籍成员导入", "fupin.exchange.jobs.household_import"),
    "household_export": Kind("户籍成员导出", "fupin.exchange.jobs.household_export"),
    "roster_import": Kind("学生名册导入", "fupin.education.jobs.roster_import"),
    "semester_run": Kind("教育资助计算", "fupin.education.jobs.semester_run"),
    "department_list_import": Kind("部门比对名单导入", "fupin.monitoring.jobs.list_import"),
    "whatif_run": Kind("政策测算", "fupin.whatif.jobs.scenario_run"),   # issue 20
}


@dataclass
class Outcome:
    """What a handler hands back. `ok` False: the work was refused and nothing was saved."""
    message: str
    ok: bool = True
    link: str = ""                      # a page showing what the job made (a run, a batch)
    problems: list[str] = field(default_factory=list)
    error_link: str = ""
    output: bytes | None = None         # a file for the owner to download (an export)
    output_name: str = ""


def job_submit(*, actor: User, kind: str, title: str, params: dict | None = None,
               upload: bytes | None = None, upload_name: str = "") -> Job:
    """Store the job and queue it. The caller has checked the permission; the handler checks it
    again when it runs, as the owner."""
    if kind not in KINDS:
        raise FupinError(f"没有“{kind[:20]}”这类后台任务")
    with transaction.atomic():
        job = Job.objects.create(owner=actor, kind=kind, title=title[:200], params=params or {},
                                 upload=upload, upload_name=upload_name[:200])
        audit.record(actor, AuditAction.CREATE, object_type="job", object_id=job.pk,
                     summary=f"提交后台任务：{title}")
    from .tasks import run_job

    result = run_job.enqueue(job.pk)   # the immediate backend (tests) has run it by now
    Job.objects.filter(pk=job.pk).update(task_id=str(result.id))
    job.refresh_from_db()
    return job


class _Recorder:
    """Writes the progress on the job's row, at most twice a second (and every stage change)."""

    def __init__(self, job_id: int):
        self.job_id = job_id
        self.last = 0.0
        self.stage = None

    def __call__(self, done: int, total: int, stage: str) -> None:
        now = time.monotonic()
        if stage == self.stage and now - self.last < 0.5:
            return
        self.last, self.stage = now, stage
        Job.objects.filter(pk=self.job_id).update(done=done, total=total, stage=stage[:40])


def job_execute(job_id: int) -> Job | None:
    """Run a queued job once: its handler as the owner, then its outcome on the row."""
    taken = Job.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(status=JobStatus.RUNNING,
                                                                         started_at=timezone.now())
    if not taken:   # already run (a queue delivers at least once)
        return None
    job = Job.objects.select_related("owner").get(pk=job_id)
    try:
        with progress.listening(_Recorder(job.pk)):
            outcome = import_string(KINDS[job.kind].handler)(job)
    except FupinError as exc:
        outcome = Outcome(message=exc.message, ok=False)
    except Exception:  # noqa: BLE001 - a job that breaks must still end, with a message the owner can act on
        log.exception("job %s (%s) failed", job.pk, job.kind)
        outcome = Outcome(message=f"任务运行出错，没有保存任何数据。请稍后重试；如仍出错，请把任务编号 {job.pk} "
                                  "告诉系统管理员", ok=False)
    finished = Job.objects.filter(pk=job.pk)
    if outcome.ok:   # the last report may have been skipped (at most two a second): done is all
        finished.update(done=F("total"))
    finished.update(
        status=JobStatus.DONE if outcome.ok else JobStatus.FAILED, message=outcome.message, link=outcome.link,
        problems=outcome.problems[:200], error_link=outcome.error_link, output=outcome.output,
        output_name=outcome.output_name, upload=None, finished_at=timezone.now(), stage="")
    job.refresh_from_db()
    return job
