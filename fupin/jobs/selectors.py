"""Reading jobs. A job is its owner's alone: anyone else, whatever their role, gets "not found"."""
from __future__ import annotations

from fupin.core.errors import NotFound
from fupin.core.models import User

from .models import Job


def jobs_for(user: User):
    return Job.objects.filter(owner=user).defer("upload", "output")


def access_job(user: User, pk: int) -> Job:
    job = Job.objects.filter(pk=pk, owner=user).defer("upload").first() if user.is_authenticated else None
    if job is None:
        raise NotFound(f"找不到任务 {pk}；任务只有提交它的人能看到")
    return job
