"""Reminders of due and overdue work (issue #22 §4): what each user opted into, and the log of
every reminder — in the app, by e-mail, by SMS — one row per user, channel, item and day, so a
second run on the same day sends nothing twice."""
from __future__ import annotations

from django.db import models

from fupin.core.models import User


class Subscription(models.Model):
    """A user's own choice: where reminders go besides the app (opt-in; off until the user asks)."""

    user = models.OneToOneField(User, primary_key=True, on_delete=models.CASCADE, related_name="+")
    email = models.EmailField("电子邮箱", max_length=120, blank=True)
    phone = models.CharField("手机号码", max_length=11, blank=True)
    by_email = models.BooleanField("通过电子邮件提醒", default=False)
    by_sms = models.BooleanField("通过短信提醒", default=False)
    updated_at = models.DateTimeField(auto_now=True)


class Channel(models.TextChoices):
    APP = "app", "站内提醒"     # always: the user's 我的提醒 page
    EMAIL = "email", "电子邮件"  # Django's e-mail backend (SMTP in production)
    SMS = "sms", "短信"          # settings.FUPIN_SMS_BACKEND (file, console or the HTTP gateway)


class Kind(models.TextChoices):
    PLAN_ITEM = "plan_item", "年度计划与议定事项"  # plans.Item: due today or overdue, not done
    WARNING = "warning", "比对预警"                # monitoring.Warning: open, reply due today or past
    PROBLEM = "problem", "问题整改"                # oversight.Problem: not closed, deadline today or past


class Outcome(models.TextChoices):
    SENT = "sent", "已发送"      # delivered to the backend (or shown in the app)
    FAILED = "failed", "发送失败"  # the backend refused; the next run the same day tries again


class Notice(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField("渠道", max_length=6, choices=Channel.choices)
    kind = models.CharField("类别", max_length=10, choices=Kind.choices)
    object_id = models.PositiveBigIntegerField()
    day = models.DateField("提醒日期")
    overdue = models.BooleanField("已逾期", default=False)
    text = models.CharField("内容", max_length=300)
    link = models.CharField(max_length=120, blank=True)
    outcome = models.CharField("结果", max_length=6, choices=Outcome.choices, default=Outcome.SENT)
    error = models.CharField("失败原因", max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-day", "kind", "object_id"]
        constraints = [models.UniqueConstraint(fields=["user", "channel", "kind", "object_id", "day"],
                                               name="notice_once_per_item_and_day")]
        indexes = [models.Index(fields=["user", "channel", "day"])]
