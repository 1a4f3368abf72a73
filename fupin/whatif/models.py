"""Policy what-if (issue 20): scenarios (a named overlay of changed pack parameters, shared
within its region), their latest results, and proposals to make a scenario law (a dated pack
version through the pack-change procedure, `workflow.pack_change` in the pack)."""
from __future__ import annotations

from django.db import models

from fupin.core.models import Region, User


class Scenario(models.Model):
    name = models.CharField("情景名称", max_length=80)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, verbose_name="测算区划")
    year = models.PositiveSmallIntegerField("测算年度")
    # parameter name → the value as a pack writes it (text: "1450", "0.08", "true")
    changes = models.JSONField("改动的参数")
    note = models.CharField("说明", max_length=300, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["region", "name"], name="whatif_scenario_name_once")]

    def __str__(self):
        return self.name


class Result(models.Model):
    """The latest run of a scenario: the summary shown on its page and, compressed, the table of
    every household's change (for the list, the chart and the Excel export)."""
    scenario = models.ForeignKey(Scenario, on_delete=models.CASCADE, related_name="results")
    computed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    computed_at = models.DateTimeField(auto_now_add=True)
    changes = models.JSONField("测算时的参数")        # what was computed, even if the scenario is edited later
    summary = models.JSONField("汇总")
    households = models.BinaryField("各户变化（Parquet）")
    seconds = models.FloatField("用时（秒）", default=0)

    class Meta:
        ordering = ["-id"]


class ProposalState(models.TextChoices):
    IN_PROGRESS = "in_progress", "审批中"   # a step of workflow.pack_change is next
    APPROVED = "approved", "已批准"         # every step approved: the pack version is final
    REJECTED = "rejected", "未批准"         # a step said no


class Proposal(models.Model):
    """A scenario proposed as a dated pack version: the changed values, each from `effective`,
    citing `source`, added to the pack of the scenario's region."""
    scenario = models.ForeignKey(Scenario, on_delete=models.PROTECT, related_name="proposals")
    changes = models.JSONField("参数")
    pack = models.CharField("政策包", max_length=60)
    effective = models.DateField("生效日期")
    source = models.CharField("依据文件", max_length=200)
    state = models.CharField(max_length=12, choices=ProposalState.choices, default=ProposalState.IN_PROGRESS)
    step = models.PositiveSmallIntegerField("当前步骤", default=0)
    steps = models.JSONField("审批步骤")   # copied from the pack when proposed
    decisions = models.JSONField("审批记录", default=list)
    pack_text = models.TextField("新版本政策包", blank=True)
    proposed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
