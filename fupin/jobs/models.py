"""A background job: who asked for it, how far it has got, and what came of it (ADR 0012).

The queue itself is django-tasks' database backend (its own table); this row is ours: the
owner's view of the work, kept after the queue's row is pruned. An uploaded file waits here
(not on disk) until the job has read it, then is dropped.
"""
from __future__ import annotations

from django.db import models

from fupin.core.models import User


class JobStatus(models.TextChoices):
    QUEUED = "queued", "排队中"        # submitted; a worker has not taken it yet
    RUNNING = "running", "进行中"      # a worker is on it; done/total say how far
    DONE = "done", "已完成"            # finished; message says what came of it
    FAILED = "failed", "未完成"        # refused (bad file, no permission) or broke; message says why, nothing was saved


class Job(models.Model):
    owner = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField("任务类型", max_length=40)
    title = models.CharField("任务", max_length=200)
    params = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    stage = models.CharField("当前步骤", max_length=40, blank=True)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)   # 0: not known yet
    message = models.TextField("结果", blank=True)
    link = models.CharField("结果页面", max_length=200, blank=True)
    problems = models.JSONField(default=list)           # the first problems of a refused file, as text
    error_link = models.CharField(max_length=200, blank=True)   # the marked error workbook of an import
    upload = models.BinaryField(null=True)
    upload_name = models.CharField(max_length=200, blank=True)
    output = models.BinaryField(null=True)
    output_name = models.CharField(max_length=200, blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True)
    finished_at = models.DateTimeField(null=True)

    class Meta:
        indexes = [models.Index(fields=["owner", "-id"])]

    @property
    def finished(self) -> bool:
        return self.status in (JobStatus.DONE, JobStatus.FAILED)

    @property
    def percent(self) -> int | None:
        if self.status == JobStatus.DONE:
            return 100
        return min(99, self.done * 100 // self.total) if self.total else None
