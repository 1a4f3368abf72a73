"""The one task the queue knows: run job N. Everything else is in services.job_execute."""
from __future__ import annotations

from django_tasks import task


@task()
def run_job(job_id: int) -> None:
    from .services import job_execute

    job_execute(job_id)
