"""Workflow instances driven by policy data, their steps, public notices and objections (SPEC §3.5)."""
from __future__ import annotations

import secrets

from django.db import models

from fupin.core.models import User


class Kind(models.TextChoices):
    IDENTIFICATION = "identification", "贫困户识别"
    EXIT = "exit", "贫困户退出"
    MONITORING = "monitoring", "监测对象识别"
    RISK_ELIMINATION = "risk_elimination", "风险消除"
    RETURN = "return", "返贫认定"
    REMARK = "remark", "风险再标注"
    DISSOLUTION = "dissolution", "注销"


class Channel(models.TextChoices):
    """How a monitoring case came in (the pack's `channels` say which a procedure takes)."""
    SELF = "self", "农户自主申报"
    APP = "app", "手机App申报"
    CADRE = "cadre", "干部排查"
    DEPARTMENT = "department", "部门筛查预警"


class MonitoredType(models.TextChoices):
    """The kind of monitored household (the pack's `types` say which a procedure takes)."""
    UNSTABLE = "unstable", "脱贫不稳定户"
    MARGINAL = "marginal", "边缘易致贫户"
    SUDDEN = "sudden", "突发严重困难户"


def labelled(choices: type[models.TextChoices], codes) -> list[tuple[str, str]]:
    """(code, label) of each code the pack lists, in its order; a code without a label shows as is."""
    labels = dict(choices.choices)
    return [(c, labels.get(c, c)) for c in codes]


class State(models.TextChoices):
    IN_PROGRESS = "in_progress", "办理中"
    REJECTED = "rejected", "已退回"          # back with the submitter, who may revise and resubmit
    COMPLETED = "completed", "已完成"
    WITHDRAWN = "withdrawn", "已撤回"


class Instance(models.Model):
    household = models.ForeignKey("registry.Household", on_delete=models.PROTECT, related_name="workflows")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    definition = models.JSONField("流程定义（启动时的政策数据）")
    pack = models.CharField(max_length=200)
    state = models.CharField(max_length=12, choices=State.choices, default=State.IN_PROGRESS)
    step = models.PositiveSmallIntegerField("当前步骤", default=0)
    step_due = models.DateField("当前步骤截止日", null=True)
    deadline = models.DateField("全流程截止日", null=True)
    channel = models.CharField("申请渠道", max_length=12, blank=True)
    monitored_type = models.CharField("监测类型", max_length=12, blank=True)
    started_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True)

    class Meta:
        indexes = [models.Index(fields=["state", "step_due"])]
        constraints = [models.UniqueConstraint(fields=["household"], condition=models.Q(state="in_progress"),
                                               name="one_open_workflow_per_household")]

    @property
    def current(self) -> dict | None:
        steps = self.definition["steps"]
        return steps[self.step] if self.state == State.IN_PROGRESS and self.step < len(steps) else None


class Action(models.Model):
    """One recorded step: who acted, when, the decision, the comment and the evidence."""

    DECISIONS = [("start", "发起"), ("approve", "通过"), ("reject", "退回"), ("resubmit", "修改后重新提交"),
                 ("override", "不符合计算结果但继续（已说明理由）")]
    instance = models.ForeignKey(Instance, on_delete=models.PROTECT, related_name="actions")
    step = models.PositiveSmallIntegerField()
    step_key = models.CharField(max_length=40)
    decision = models.CharField(max_length=10, choices=DECISIONS)
    actor = models.ForeignKey(User, on_delete=models.PROTECT)
    at = models.DateTimeField(auto_now_add=True)
    comment = models.CharField(max_length=500, blank=True)
    verifiers = models.JSONField(default=list, blank=True)
    evidence = models.JSONField(default=list, blank=True)   # stored file names

    class Meta:
        ordering = ["at", "id"]

    @property
    def step_label(self) -> str:
        """The step as its definition (pack data) names it, never its key."""
        for step in self.instance.definition.get("steps", []):
            if step.get("key") == self.step_key:
                return step.get("label", "")
        return ""   # "start" and "resubmit" are named by the decision (发起, 修改后重新提交)


def _token():
    return secrets.token_urlsafe(12)


class Notice(models.Model):
    instance = models.ForeignKey(Instance, on_delete=models.PROTECT, related_name="notices")
    step_key = models.CharField(max_length=40)
    title = models.CharField(max_length=200)
    start = models.DateField()
    end = models.DateField()
    content = models.JSONField("公示内容（姓名、村、事由）")
    token = models.CharField(max_length=40, unique=True, default=_token)


class Objection(models.Model):
    notice = models.ForeignKey(Notice, on_delete=models.PROTECT, related_name="objections")
    by_name = models.CharField("异议人", max_length=40)
    content = models.CharField("异议内容", max_length=500)
    via = models.CharField(max_length=10, choices=[("web", "网上提出"), ("cadre", "干部代为登记")])
    lodged_at = models.DateTimeField(auto_now_add=True)
    answer = models.CharField("答复", max_length=500, blank=True)
    answered_by = models.ForeignKey(User, null=True, on_delete=models.PROTECT)
    answered_at = models.DateTimeField(null=True)


class ExclusionMatch(models.Model):
    """A person found by data comparison to belong to an excluded kind (public employee, car owner…)."""

    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="exclusions")
    kind = models.CharField(max_length=30)
    source = models.CharField("比对来源", max_length=100)
    recorded_on = models.DateField()
