"""Yearly targets (任务书) per region and the problem list with its rectification states (SPEC §12)."""
from __future__ import annotations

from django.db import models
from django.db.models import Q

from fupin.core.models import Region, User
from fupin.registry.choices import Status


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


class RectificationCampaign(models.Model):
    """A rectification campaign (专项整改行动) of a region, in dated phases (policies/problems.yaml)."""

    name = models.CharField("名称", max_length=120)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", verbose_name="区划")
    phases = models.JSONField("阶段")   # [{"key", "name", "start", "end"}], dates as YYYY-MM-DD
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def phase_on(self, day) -> str:
        iso = day.isoformat()
        for ph in self.phases:
            if ph["start"] <= iso <= ph["end"]:
                return ph["name"]
        return "未开始" if iso < self.phases[0]["start"] else "已结束"


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
    campaign = models.ForeignKey(RectificationCampaign, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="problems", verbose_name="专项整改行动")
    # overdue and not closed: supervised by the level above, one level higher the longer it stays overdue
    # (policies/problems.yaml escalation); set by services.problems_escalate, the nightly job
    escalated_to = models.ForeignKey(Region, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                     verbose_name="逾期上提至")
    escalated_on = models.DateField("上提日期", null=True, blank=True)

    class Meta:
        ordering = ["deadline", "id"]
        indexes = [models.Index(fields=["region", "state"]), models.Index(fields=["state", "deadline"])]
        constraints = [models.UniqueConstraint(fields=["source_key"], condition=~Q(source_key=""),
                                               name="problem_source_key_once")]


# ---- inspections (SPEC §12: 自查、复查、抽查, third-party evaluation; 两率一度) -------------------------

class CampaignKind(models.TextChoices):
    SELF_CHECK = "self_check", "县级自查"
    RECHECK = "recheck", "市级复查"
    SPOT_CHECK = "spot_check", "省级抽查"
    THIRD_PARTY = "third_party", "第三方评估"


class Campaign(models.Model):
    """An inspection of one region over a period, by a team, on a seeded stratified sample."""

    name = models.CharField("名称", max_length=120)
    kind = models.CharField("类型", max_length=12, choices=CampaignKind.choices)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", verbose_name="检查范围")
    start = models.DateField("开始日期")
    end = models.DateField("结束日期")
    team = models.CharField("检查组", max_length=300)
    seed = models.CharField("抽样种子", max_length=40)
    per_stratum = models.PositiveIntegerField("每层抽取户数")
    statuses = models.JSONField("抽样对象状态")
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-start", "-id"]


class Sample(models.Model):
    """One household drawn for a campaign, with the stratum (township, status) it was drawn from."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="samples")
    household = models.ForeignKey("registry.Household", on_delete=models.PROTECT, related_name="+")
    township = models.CharField(max_length=12)
    status = models.CharField("抽样时状态", max_length=12, choices=Status.choices)  # the household's status when drawn
    order = models.PositiveIntegerField()              # position on the visit sheet

    class Meta:
        ordering = ["order"]
        constraints = [models.UniqueConstraint(fields=["campaign", "household"], name="sample_once")]


class Identification(models.TextChoices):
    CORRECT = "correct", "识别准确"
    WRONGLY_IN = "wrongly_in", "错评（不该识别的识别了）"
    WRONGLY_OUT = "wrongly_out", "漏评（该识别的没有识别）"


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", "满意"
    FAIR = "fair", "基本满意"
    UNSATISFIED = "unsatisfied", "不满意"


class Finding(models.Model):
    """What the inspectors found at one sampled household. One per household and campaign: saving
    again (a retry from a phone that lost its connection) replaces it, never adds a second."""

    sample = models.OneToOneField(Sample, on_delete=models.CASCADE, related_name="finding")
    identification = models.CharField("识别情况", max_length=12, choices=Identification.choices)
    exit_correct = models.BooleanField("退出准确", null=True, blank=True)   # only for exited households
    satisfaction = models.CharField("群众认可度", max_length=12, choices=Satisfaction.choices)
    note = models.CharField("情况说明", max_length=500, blank=True)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now=True)
    client_token = models.CharField(max_length=64, blank=True)


class Snapshot(models.Model):
    """One indicator's value for one region and year, pre-aggregated for large counties by the same
    query as the board, grouped by region (services.snapshot_refresh). The lists behind the numbers
    stay live; the board says when its numbers were counted."""

    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    year = models.PositiveSmallIntegerField()
    indicator = models.CharField(max_length=40)
    split = models.CharField(max_length=12, blank=True)     # a funding source, for split indicators
    value = models.BigIntegerField()
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["region", "year", "indicator", "split"], name="snapshot_once")]


# ---- reports upward (报表) ---------------------------------------------------------------------------

class FilingState(models.TextChoices):
    GENERATED = "generated", "已生成待审核"
    REVIEWED = "reviewed", "已审核签发"
    SUBMITTED = "submitted", "已上报"
    RETURNED = "returned", "已退回"


class ReportFiling(models.Model):
    """One region's report of one form and period (policies/reports/): the table as generated, frozen,
    then reviewed and signed off by a second person, submitted, and possibly returned by the level above."""

    form = models.CharField("报表", max_length=40)           # key in policies/reports/*.yaml
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", verbose_name="填报单位")
    period = models.CharField("报告期", max_length=10)         # 2026-11, 2026-Q4, 2026
    state = models.CharField("状态", max_length=10, choices=FilingState.choices, default=FilingState.GENERATED)
    table = models.JSONField("报表数据")
    generated_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    generated_at = models.DateTimeField()
    reviewed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(null=True, blank=True)
    returned_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    return_reason = models.CharField("退回原因", max_length=300, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["form", "region", "period"], name="filing_once")]
