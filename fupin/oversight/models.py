"""Yearly targets (任务书) per region and the problem list with its rectification states (SPEC §12)."""
from __future__ import annotations

from django.db import models
from django.db.models import Q

from fupin.core.models import Region, User


class Target(models.Model):
    """One yearly target of one indicator for one region, set by the level above (任务书).

    `value` is in the indicator's unit: a count, fen for money, or per mille for a rate."""

    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", verbose_name="区划")
    year = models.PositiveSmallIntegerField("年度")
    indicator = models.CharField("指标", max_length=40)   # key in policies/indicators/*.yaml
    value = models.BigIntegerField("目标值")
    set_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    set_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["region", "year", "indicator"], name="target_one_per_region_year")]


class ProblemState(models.TextChoices):
    OPEN = "open", "待整改"                # registered, nobody has started
    RECTIFYING = "rectifying", "整改中"    # the owner is working on it
    SUBMITTED = "submitted", "已提交待核验"  # the owner says it is fixed, with evidence
    VERIFIED = "verified", "已销号"        # checked by someone else and closed (销号)
    REOPENED = "reopened", "退回重新整改"   # the check found it not fixed (or a re-check reopened it)


class ProblemSource(models.TextChoices):
    MANUAL = "manual", "人工登记"
    AUDIT = "audit", "资金审计检查"
    INSPECTION = "inspection", "督查检查"
    WARNING = "warning", "预警"


class Problem(models.Model):
    type = models.CharField("问题类型", max_length=24)          # key in policies/problems.yaml
    title = models.CharField("问题描述", max_length=300)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", verbose_name="区划")
    household = models.ForeignKey("registry.Household", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+", verbose_name="涉及户")
    owner_unit = models.CharField("责任单位", max_length=80)
    owner_name = models.CharField("责任人", max_length=40, blank=True)
    deadline = models.DateField("整改期限")
    evidence = models.CharField("整改情况与佐证", max_length=1000, blank=True)
    state = models.CharField("状态", max_length=12, choices=ProblemState.choices, default=ProblemState.OPEN)
    source = models.CharField("来源", max_length=12, choices=ProblemSource.choices, default=ProblemSource.MANUAL)
    # what an automatic check found ("deceased:entry:17"): a check run twice registers it once
    source_key = models.CharField(max_length=80, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    verified_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    closed_on = models.DateField("销号日期", null=True, blank=True)

    class Meta:
        ordering = ["deadline", "id"]
        indexes = [models.Index(fields=["region", "state"]), models.Index(fields=["state", "deadline"])]
        constraints = [models.UniqueConstraint(fields=["source_key"], condition=~Q(source_key=""),
                                               name="problem_source_key_once")]
