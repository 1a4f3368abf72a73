"""Programme enrolments, applications with their steps, re-checks, and monthly payment runs."""
from __future__ import annotations

from django.db import models
from django.db.models import Q

from fupin.core.models import Region, User


class Programme(models.TextChoices):
    DIBAO = "dibao", "最低生活保障（低保）"
    TEKUN = "tekun", "特困人员救助供养"
    TEMPORARY = "temporary", "临时救助"
    DISABILITY_NURSING = "disability_nursing", "重度残疾人护理补贴"
    DISABILITY_LIVING = "disability_living", "困难残疾人生活补贴"
    FP_REWARD = "fp_reward", "计划生育奖励扶助"
    FP_SPECIAL = "fp_special", "计划生育特别扶助"


class Enrolment(models.Model):
    """One recipient in one programme from `start` (first day of the first month paid) until
    `stop` (first day of the first month NOT paid; empty while it runs). A raise or a cut is a
    new enrolment from next month, the old one stopped: what was paid stays explainable.
    The inputs of the rule (category, care level, income, members, assets) are kept on the row."""

    household = models.ForeignKey("registry.Household", on_delete=models.PROTECT, related_name="welfare")
    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="welfare")  # paid to
    programme = models.CharField("救助项目", max_length=20, choices=Programme.choices)
    category = models.CharField("类别", max_length=12)
    care_level = models.CharField("照料护理等级", max_length=8, default="none")
    income = models.BigIntegerField("家庭月人均收入（分）", default=0)
    members = models.PositiveSmallIntegerField("计入保障人数", default=1)
    used_before = models.BigIntegerField("本年此前已获临时救助（分）", default=0)
    # the assets the means test counted (from the household's latest AssetRecord; none recorded: 0)
    financial_assets = models.BigIntegerField("家庭金融资产合计（分）", default=0)
    vehicle = models.BooleanField("有非生活必需的机动车辆", default=False)
    commercial_housing = models.BooleanField("有商业用房", default=False)
    houses = models.PositiveSmallIntegerField("住房套数", default=0)
    business = models.BooleanField("有工商登记", default=False)
    monthly_amount = models.BigIntegerField("月发放金额（分）")
    start = models.DateField("起始月份")
    stop = models.DateField("停发月份", null=True, blank=True)
    stop_reason = models.CharField("停发原因", max_length=200, blank=True)
    next_recheck = models.DateField("下次复核", null=True, blank=True)
    application = models.ForeignKey("Application", null=True, blank=True, on_delete=models.PROTECT)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["household_id", "person_id", "programme", "start"]
        # (programme, stop): a run lists who stopped this month without reading every enrolment
        indexes = [models.Index(fields=["programme", "start"]),
                   models.Index(fields=["programme", "stop"], condition=Q(stop__isnull=False), name="welfare_stopped")]
        constraints = [models.UniqueConstraint(fields=["person", "programme"], condition=Q(stop__isnull=True),
                                               name="welfare_one_running_enrolment")]

    @property
    def category_label(self) -> str:
        from fupin.policy.rules.welfare import LABELS
        return LABELS.get(self.category, "")


class AppState(models.TextChoices):
    IN_PROGRESS = "in_progress", "办理中"
    REJECTED = "rejected", "未批准"        # refused at a step, with the reason
    APPROVED = "approved", "已批准"


class Application(models.Model):
    """An application through the procedure in the pack (`welfare.application.*`), copied here
    when it starts so a later change of procedure does not alter a case under way (ADR 0007)."""

    household = models.ForeignKey("registry.Household", on_delete=models.PROTECT, related_name="welfare_applications")
    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="+")
    programme = models.CharField("救助项目", max_length=20, choices=Programme.choices)
    category = models.CharField("类别", max_length=12)
    care_level = models.CharField("照料护理等级", max_length=8, default="none")
    on_behalf = models.BooleanField("干部代为申请", default=False)
    consent_assets = models.BooleanField("承诺并授权核查家庭经济状况", default=False)
    definition = models.JSONField("办理程序（启动时的政策数据）")
    pack = models.CharField(max_length=200)
    state = models.CharField(max_length=12, choices=AppState.choices, default=AppState.IN_PROGRESS)
    step = models.PositiveSmallIntegerField("当前步骤", default=0)
    step_due = models.DateField("当前步骤截止日", null=True)
    notice_end = models.DateField("公示截止日", null=True)
    started_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["person", "programme"], condition=Q(state="in_progress"),
                                               name="welfare_one_open_application")]

    @property
    def current(self) -> dict | None:
        steps = self.definition["steps"]
        return steps[self.step] if self.state == AppState.IN_PROGRESS and self.step < len(steps) else None


class Decision(models.Model):
    """One decision on one step: who, when, what, with the verifiers and the evidence."""

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="decisions")
    step = models.PositiveSmallIntegerField()
    step_key = models.CharField(max_length=40)
    step_label = models.CharField(max_length=60)
    approved = models.BooleanField()
    actor = models.ForeignKey(User, on_delete=models.PROTECT)
    at = models.DateTimeField(auto_now_add=True)
    comment = models.CharField(max_length=500, blank=True)
    verifiers = models.JSONField(default=list, blank=True)
    evidence = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["at", "id"]


class AssetRecord(models.Model):
    """The family's assets as verified at the home visit (入户核查) of a 低保/特困 application:
    who recorded them and when, with the step decision they belong to. Never edited: a later
    visit records a new row, and the means test (and each re-check) reads the latest one."""

    household = models.ForeignKey("registry.Household", on_delete=models.PROTECT, related_name="welfare_assets")
    application = models.ForeignKey(Application, null=True, on_delete=models.PROTECT, related_name="assets")
    decision = models.OneToOneField(Decision, null=True, on_delete=models.PROTECT, related_name="assets")
    deposits = models.BigIntegerField("银行存款（分）", default=0)
    securities = models.BigIntegerField("有价证券（分）", default=0)
    insurance = models.BigIntegerField("商业保险现金价值（分）", default=0)
    vehicles = models.PositiveSmallIntegerField("机动车辆（辆）", default=0)
    vehicles_exempt = models.PositiveSmallIntegerField("其中经营用或残疾成员代步用（辆）", default=0)
    commercial_housing = models.BooleanField("有商业用房（商铺、写字楼等）", default=False)
    houses = models.PositiveSmallIntegerField("住房套数", default=0)
    businesses = models.PositiveSmallIntegerField("工商登记（企业、个体户）数", default=0)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-recorded_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(deposits__gte=0) & Q(securities__gte=0) & Q(insurance__gte=0)
                                              & Q(vehicles_exempt__lte=models.F("vehicles")),
                                              name="welfare_assets_sane")]

    @property
    def financial_assets(self) -> int:
        return self.deposits + self.securities + self.insurance

    @property
    def nonessential_vehicles(self) -> int:
        return self.vehicles - self.vehicles_exempt

    def inputs(self) -> dict:
        """The rule's asset inputs (fupin/policy/rules/welfare.py)."""
        return dict(financial_assets=self.financial_assets, vehicle=self.nonessential_vehicles > 0,
                    commercial_housing=self.commercial_housing, houses=self.houses, business=self.businesses > 0)


class RecheckResult(models.TextChoices):
    KEEP = "keep", "维持"
    RAISE = "raise", "提高"
    LOWER = "lower", "降低"
    STOP = "stop", "停发"


class Recheck(models.Model):
    """A periodic re-check (应保尽保、应退尽退) and its result, effective from next month."""

    enrolment = models.ForeignKey(Enrolment, on_delete=models.PROTECT, related_name="rechecks")
    checked_on = models.DateField("复核日期")
    result = models.CharField("结果", max_length=6, choices=RecheckResult.choices)
    old_amount = models.BigIntegerField("原月发放金额（分）")
    new_amount = models.BigIntegerField("新月发放金额（分）")
    effective = models.DateField("生效月份")
    reason = models.CharField("说明", max_length=300, blank=True)
    actor = models.ForeignKey(User, on_delete=models.PROTECT)


class RunStatus(models.TextChoices):
    COMPUTED = "computed", "已计算待审核"
    APPROVED = "approved", "已审批"
    POSTED = "posted", "已发放入账"


class PaymentRun(models.Model):
    """A monthly run of one programme in one county."""

    programme = models.CharField("救助项目", max_length=20, choices=Programme.choices)
    county = models.ForeignKey(Region, on_delete=models.PROTECT)
    month = models.DateField("发放月份")   # its first day
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.COMPUTED)
    budget = models.ForeignKey("funds.Account", on_delete=models.PROTECT)
    computed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    computed_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.ForeignKey(User, null=True, on_delete=models.PROTECT, related_name="+")
    posted_at = models.DateTimeField(null=True)
    packs = models.CharField("适用政策包", max_length=300, blank=True)
    total = models.BigIntegerField(default=0)
    lines_count = models.PositiveIntegerField(default=0)
    stopped = models.JSONField("本月停发（复核时列出）", default=list, blank=True)

    class Meta:
        ordering = ["-month", "-id"]


class LineKind(models.TextChoices):
    MONTHLY = "monthly", "按月发放"
    BACK_PAY = "back_pay", "补发"


class Flag(models.TextChoices):
    NONE = "", "无"
    NEW = "new", "新增"
    CHANGED = "changed", "金额变化"
    JUMP = "jump", "金额跳变"


class RunLine(models.Model):
    # no database constraint on the run either: lines are written only by the run's computation,
    # in the transaction that creates the run, and a database check per line of a two-million
    # run cost as much as writing it (ADR 0008)
    run = models.ForeignKey(PaymentRun, on_delete=models.CASCADE, related_name="lines", db_index=False,
                            db_constraint=False)
    enrolment = models.ForeignKey(Enrolment, on_delete=models.PROTECT, db_constraint=False, db_index=False,
                                  related_name="run_lines")
    # restates the enrolment's recipient (lists, payee accounts); the enrolment guarantees it
    person = models.ForeignKey("registry.Person", on_delete=models.DO_NOTHING, db_constraint=False, db_index=False,
                               related_name="welfare_run_lines")
    kind = models.CharField(max_length=10, choices=LineKind.choices, default=LineKind.MONTHLY)
    amount = models.BigIntegerField("金额（分）")
    previous = models.BigIntegerField("上月金额（分）", null=True)
    flag = models.CharField("例外", max_length=8, choices=Flag.choices, blank=True, default="")
    reason = models.CharField("原因", max_length=200, blank=True)

    class Meta:
        indexes = [models.Index(fields=["run", "flag"])]
