"""The daily reminder run as a background task (django-tasks, ADR 0012): enqueue it from a scheduler
(cron or a systemd timer) with `python manage.py notify_due --enqueue`, or run it inline."""
from __future__ import annotations

import datetime as dt

from django_tasks import task


@task()
def send_due_notifications(day: str) -> dict:
    from .services import notices_send

    return {str(k): v for k, v in notices_send(day=dt.date.fromisoformat(day)).items()}
