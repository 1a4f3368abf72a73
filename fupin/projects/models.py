"""The project library (项目库, SPEC §10): projects per village and county, their budget by
funding source, beneficiary households, life cycle, progress, acceptance and assets.

Money is never stored here: what was allocated and paid is read from the ledger (each project
has one budget line per funding source, `funds.services.project_budget_account`)."""
from __future__ import annotations

from django.db import models

from fupin.core.models import Region, User
from fupin.funds.models import FundingSource


class Category(models.TextChoices):
    INDUSTRY = "industry", "产业发展"
    INFRASTRUCTURE = "infrastructure", "基础设施"
    HOUSING = "housing", "住房保障"
    EDUCATION = "education", "教育扶贫"
    HEALTH = "health", "健康扶贫"
    RELOCATION = "relocation", "易地扶贫搬迁"
    TRAINING = "training", "技能培训"
    OTHER = "other", "其他"


class State(models.TextChoices):
    PROPOSED = "proposed", "已申报"            # entered by a village or township, awaiting review
    REVIEWED = "reviewed", "乡镇已审核"         # township checked it
    APPROVED = "approved", "已纳入年度计划"     # the county's plan for the year
    IMPLEMENTING = "implementing", "实施中"     # works under way, progress reported
    ACCEPTED = "accepted", "已竣工验收"         # acceptance check passed, with its record
    HANDED_OVER = "handed_over", "资产已移交"   # 扶贫资产 handed to its owner
    EVALUATED = "evaluated", "已绩效评价"       # performance evaluated: the end


class Project(models.Model):
    number = models.CharField("项目编号", max_length=40, unique=True)
    name = models.CharField("项目名称", max_length=120)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, verbose_name="实施地点")  # a village or the county
    year = models.PositiveSmallIntegerField("年度")
    category = models.CharField("类别", max_length=16, choices=Category.choices)
    content = models.CharField("建设内容", max_length=500)
    implementer = models.CharField("实施单位", max_length=120)
    start = models.DateField("计划开工")
    end = models.DateField("计划完工")
    state = models.CharField("状态", max_length=16, choices=State.choices, default=State.PROPOSED)
    lifecycle = models.JSONField("生命周期（立项时的政策）")   # copied from the pack (ADR 0007)
    token = models.CharField(max_length=32, unique=True)       # the public page's address
    created_by = models.ForeignKey(User, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-year", "number"]
        indexes = [models.Index(fields=["region", "year"]), models.Index(fields=["state"])]


class BudgetLine(models.Model):
    """The plan: how much each funding source is to give."""
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="budget")
    source = models.CharField("资金来源", max_length=12, choices=FundingSource.choices)
    amount = models.BigIntegerField("计划金额（分）")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "source"], name="project_budget_one_per_source")]


class Beneficiary(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="beneficiaries")
    household = models.ForeignKey("registry.Household", on_delete=models.PROTECT, related_name="projects")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "household"], name="project_beneficiary_once")]


class Step(models.Model):
    """One step of the life cycle done: who, when, and its record (acceptance, evaluation)."""
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="steps")
    key = models.CharField(max_length=20)
    label = models.CharField("步骤", max_length=40)
    to_state = models.CharField(max_length=16, choices=State.choices)
    date = models.DateField("日期")
    actor = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    note = models.CharField("意见或记录", max_length=500, blank=True)
    score = models.PositiveSmallIntegerField("绩效评分", null=True, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]
        constraints = [models.UniqueConstraint(fields=["project", "key"], name="project_step_once")]


class Progress(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="progress")
    date = models.DateField("日期")
    percent = models.PositiveSmallIntegerField("完成进度（%）")
    note = models.CharField("进展情况", max_length=500)
    actor = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["date", "id"]


class ProgressPhoto(models.Model):
    progress = models.ForeignKey(Progress, on_delete=models.CASCADE, related_name="photos")
    file = models.CharField(max_length=200)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True)
    bytes = models.PositiveIntegerField()


class Asset(models.Model):
    """扶贫资产 handed over at the end of a project: owner, value and beneficiaries."""
    project = models.OneToOneField(Project, on_delete=models.PROTECT, related_name="asset")
    name = models.CharField("资产名称", max_length=120)
    owner = models.CharField("产权归属", max_length=120)
    value = models.BigIntegerField("资产价值（分）")
    beneficiaries = models.PositiveIntegerField("受益户数")
    handed_over = models.DateField("移交日期")


# ---- housing (危房改造, 易地扶贫搬迁) and industry support (合作社分红) ------------------------------

class HousingKind(models.TextChoices):
    DANGEROUS_HOUSE = "dangerous_house", "农村危房改造"
    RELOCATION = "relocation", "易地扶贫搬迁"


class HousingSubsidy(models.Model):
    """One household's housing subsidy, computed from the pack when granted and paid in instalments.
    One per household: a house is rebuilt or the household relocates, never both."""
    household = models.OneToOneField("registry.Household", on_delete=models.PROTECT, related_name="housing_subsidy")
    kind = models.CharField("类型", max_length=16, choices=HousingKind.choices)
    grade = models.CharField("危房等级", max_length=1, blank=True)
    persons = models.PositiveSmallIntegerField("人口")
    amount = models.BigIntegerField("补助总额（分）")
    rule = models.JSONField("政策（核定时）")          # the pack's map, copied (ADR 0007)
    explanation = models.JSONField("核定说明", default=list)
    before = models.CharField("改造前情况", max_length=300)
    granted_on = models.DateField("核定日期")
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")


class HousingInstalment(models.Model):
    subsidy = models.ForeignKey(HousingSubsidy, on_delete=models.PROTECT, related_name="instalments")
    number = models.PositiveSmallIntegerField("期次")
    amount = models.BigIntegerField("金额（分）")
    date = models.DateField("拨付日期")
    evidence = models.CharField("拨付依据（进度或验收情况）", max_length=300)
    transaction = models.ForeignKey("funds.Transaction", on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["subsidy", "number"], name="housing_instalment_once")]


class Cooperative(models.Model):
    name = models.CharField("合作社或企业", max_length=120)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, verbose_name="所在地")


class Membership(models.Model):
    cooperative = models.ForeignKey(Cooperative, on_delete=models.CASCADE, related_name="members")
    household = models.ForeignKey("registry.Household", on_delete=models.PROTECT, related_name="cooperatives")
    shares = models.PositiveIntegerField("股份（份）")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["cooperative", "household"], name="membership_once")]


class Dividend(models.Model):
    cooperative = models.ForeignKey(Cooperative, on_delete=models.PROTECT, related_name="dividends")
    year = models.PositiveSmallIntegerField("年度")
    total = models.BigIntegerField("分红总额（分）")
    transaction = models.ForeignKey("funds.Transaction", on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["cooperative", "year"], name="dividend_once_a_year")]


# ---- micro-credit (扶贫小额信贷) ------------------------------------------------------------------------

class Loan(models.Model):
    household = models.ForeignKey("registry.Household", on_delete=models.PROTECT, related_name="loans")
    bank = models.CharField("贷款银行", max_length=80)
    amount = models.BigIntegerField("贷款金额（分）")
    term_months = models.PositiveSmallIntegerField("期限（月）")
    purpose = models.CharField("用途", max_length=200)
    start = models.DateField("放款日期")
    due = models.DateField("到期日期")
    rule = models.JSONField("政策（放款时）")
    renewed_from = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="renewal")
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")


class Repayment(models.Model):
    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="repayments")
    date = models.DateField("还款日期")
    amount = models.BigIntegerField("还款金额（分）")


class InterestSubsidy(models.Model):
    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="subsidies")
    start = models.DateField("计息起日")
    end = models.DateField("计息止日")
    amount = models.BigIntegerField("贴息金额（分）")
    transaction = models.ForeignKey("funds.Transaction", on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["loan", "start"], name="interest_subsidy_once_per_period")]


class AllocationNotice(models.Model):
    """A county's (or township's) published yearly fund-allocation notice (资金公告公示): its public
    page (no login, no personal data) is at the token the printed notice's QR code carries."""
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", verbose_name="区划")
    year = models.PositiveSmallIntegerField("年度")
    token = models.CharField(max_length=32, unique=True)
    published_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    published_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["region", "year"], name="allocation_notice_once")]
