"""Hospitals, settled claims and each patient's year-to-date accumulators (SPEC §6.1)."""
from __future__ import annotations

from django.db import models

from fupin.core.models import Region, User


class Hospital(models.Model):
    code = models.CharField("机构代码", max_length=30, unique=True)
    name = models.CharField("名称", max_length=80)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, verbose_name="所在区划")
    level = models.CharField("级别", max_length=10, choices=[("township", "乡镇"), ("county", "县级"),
                                                          ("city", "市级"), ("province", "省级")])

    def __str__(self):
        return self.name


class ClaimStatus(models.TextChoices):
    SETTLED = "settled", "已结算"
    REVERSED = "reversed", "已冲销"


class Claim(models.Model):
    hospital = models.ForeignKey(Hospital, on_delete=models.PROTECT)
    number = models.CharField("就诊（结算）流水号", max_length=40)
    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="claims")
    visit_type = models.CharField(max_length=24)
    level = models.CharField(max_length=10)
    in_county = models.BooleanField()
    referred = models.BooleanField()
    discharge_date = models.DateField("出院日期")
    categories = models.JSONField("对象类别")
    total = models.BigIntegerField("总费用（分）")
    in_policy = models.BigIntegerField("目录内费用（分）")
    waivable = models.BigIntegerField("可减免费用（分）")
    patient = models.BigIntegerField("个人自付（分）")
    shortfall = models.BigIntegerField("兜底资金不足（分）", default=0)
    breakdown = models.JSONField("各方金额（分）")
    explanation = models.JSONField("计算依据")
    pack = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=ClaimStatus.choices, default=ClaimStatus.SETTLED)
    settled_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    settled_at = models.DateTimeField(auto_now_add=True)
    transaction = models.ForeignKey("funds.Transaction", on_delete=models.PROTECT, related_name="+")
    reversed_by = models.ForeignKey(User, null=True, on_delete=models.PROTECT, related_name="+")
    reversal_reason = models.CharField(max_length=200, blank=True)
    # What this claim added to the patient's year-to-date accumulators (fen, by key: basic,
    # ci_base, ci, assistance, topup.<fund>). A reversal subtracts exactly these.
    accumulator_changes = models.JSONField("本次累计额变动（分）", default=dict)

    class Meta:
        # one live claim per hospital and number: a reversed number can be settled again
        constraints = [models.UniqueConstraint(fields=["hospital", "number"], condition=models.Q(status="settled"),
                                               name="claim_live_once")]


class Accumulator(models.Model):
    """One year-to-date figure of one patient: basic, ci_base, ci, assistance, topup.<fund>."""

    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="accumulators")
    year = models.PositiveSmallIntegerField()
    key = models.CharField(max_length=40)
    amount = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["person", "year", "key"], name="accumulator_unique")]


class Condition(models.Model):
    """A diagnosed condition of a person (codes from policies/lists/diseases.yaml)."""

    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="conditions")
    code = models.CharField("疾病", max_length=40)
    diagnosed_on = models.DateField("确诊日期")
    resolved_on = models.DateField("治愈/撤销日期", null=True, blank=True)


class Certificate(models.Model):
    """门诊服务证 for a special or chronic outpatient disease."""

    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="certificates")
    kind = models.CharField(max_length=10, choices=[("special", "特殊病"), ("chronic", "慢性病")])
    disease = models.CharField(max_length=40)
    number = models.CharField("证号", max_length=40, unique=True)
    valid_from = models.DateField()
    valid_to = models.DateField()


class FixedSubsidy(models.Model):
    """A fixed-amount subsidy claim (SPEC §6.2), paid from its budget line."""

    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="fixed_subsidies")
    kind = models.CharField(max_length=40)
    date = models.DateField()
    period = models.CharField(max_length=20)
    amount = models.BigIntegerField()
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT)
    transaction = models.ForeignKey("funds.Transaction", on_delete=models.PROTECT, related_name="+")


class Contract(models.Model):
    """A family-doctor contract (SPEC §6.4)."""

    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="fd_contracts")
    team = models.CharField("签约团队", max_length=60)
    doctor = models.CharField("责任医生", max_length=40)
    signed_on = models.DateField()
    valid_to = models.DateField()
    package = models.CharField("服务包", max_length=40, blank=True)
    # ended before valid_to (moved away, died, declined): the contract no longer counts from that day
    ended_on = models.DateField("解约日期", null=True, blank=True)
    end_reason = models.CharField("解约原因", max_length=100, blank=True)


class Service(models.Model):
    KINDS = [("check", "健康体检"), ("followup", "面对面随访"), ("assessment", "老年人健康评估"),
             ("prenatal", "孕期保健"), ("postnatal", "产后访视"), ("child_check", "儿童健康检查"),
             ("tb_visit", "肺结核患者随访")]
    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="fd_services")
    kind = models.CharField(max_length=12, choices=KINDS)
    date = models.DateField()
    team = models.CharField(max_length=60, blank=True)
    doctor = models.CharField(max_length=40, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["person", "kind", "date"], name="fd_service_once_a_day")]


class Batch(models.TextChoices):
    """三个一批 (seed 004): the treatment batch a patient is managed in. Which diseases belong to
    which batch is data (policies/lists/diseases.yaml, `batches`)."""
    CONCENTRATED = "concentrated", "大病集中救治一批"   # 13 categories / 19 diseases, designated hospitals
    CHRONIC = "chronic", "慢病签约服务管理一批"        # chronic diseases, family-doctor contract and follow-up
    CRITICAL = "critical", "重病兜底保障一批"          # serious illness, the safety-net payers


class Stage(models.TextChoices):
    """From diagnosis to outcome, in this order."""
    ASSIGNED = "assigned", "已确定救治医院"    # found from the registry and the conditions, hospital chosen
    TREATING = "treating", "救治中"            # treatment started
    TREATED = "treated", "已完成救治"          # treatment ended, outcome recorded


class Outcome(models.TextChoices):
    CURED = "cured", "治愈"
    IMPROVED = "improved", "好转"
    UNCHANGED = "unchanged", "未愈"
    DIED = "died", "死亡"


class TreatmentCase(models.Model):
    """One patient's treatment of one disease in one batch and year (三个一批)."""

    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="treatment_cases")
    batch = models.CharField("批次", max_length=12, choices=Batch.choices)
    year = models.PositiveSmallIntegerField("年度")
    disease = models.CharField("病种", max_length=40)
    hospital = models.ForeignKey(Hospital, on_delete=models.PROTECT, verbose_name="救治医院")
    stage = models.CharField("进度", max_length=10, choices=Stage.choices, default=Stage.ASSIGNED)
    assigned_on = models.DateField("确定医院日期")
    started_on = models.DateField("开始救治日期", null=True, blank=True)
    ended_on = models.DateField("完成救治日期", null=True, blank=True)
    outcome = models.CharField("结果", max_length=10, choices=Outcome.choices, blank=True)
    opened_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["person", "batch", "year", "disease"], name="treatment_case_once")]


class Pregnancy(models.Model):
    """A pregnancy followed by the family-doctor team: prenatal checks until delivery, then
    postnatal visits (SPEC §6.4; the numbers and the postnatal period are pack data)."""

    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="pregnancies")
    registered_on = models.DateField("建册日期")
    expected_on = models.DateField("预产期")
    delivered_on = models.DateField("分娩日期", null=True, blank=True)


# ---- issue 17: insurance premiums, TB patients, tele-consultation ---------------------------------

class Scheme(models.TextChoices):
    RESIDENT = "resident", "城乡居民基本医疗保险"
    EMPLOYEE = "employee", "职工基本医疗保险"


class PremiumRun(models.Model):
    """One run of the yearly premium subsidy (资助参保) for a region: one ledger transaction from the
    county's premium budget line to the basic insurance fund, and one Coverage row per person."""

    region = models.ForeignKey(Region, on_delete=models.PROTECT, verbose_name="区划")
    year = models.PositiveSmallIntegerField("参保年度")
    date = models.DateField("代缴日期")
    persons = models.PositiveIntegerField("人数")
    total = models.BigIntegerField("资助金额（分）")
    transaction = models.ForeignKey("funds.Transaction", null=True, on_delete=models.PROTECT, related_name="+")
    run_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # A reversal (冲销) is the exact negative of the run's transaction; the run's coverage rows are
    # then removed (the persons count as uninsured again) and their roster kept here: [[person, fen]].
    reversal = models.ForeignKey("funds.Transaction", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reversal_reason = models.CharField("冲销原因", max_length=200, blank=True)
    reversed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reversed_roster = models.JSONField("冲销时的代缴花名册", default=list, blank=True)


class Coverage(models.Model):
    """A person insured for a year: by the premium run (the subsidy paid through the ledger) or
    recorded from the insurance office's list (paid by the person or insured elsewhere)."""

    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="coverages")
    year = models.PositiveSmallIntegerField("参保年度")
    scheme = models.CharField("险种", max_length=10, choices=Scheme.choices, default=Scheme.RESIDENT)
    premium = models.BigIntegerField("个人缴费标准（分）", default=0)
    subsidy = models.BigIntegerField("财政资助（分）", default=0)
    category = models.CharField("资助类别", max_length=20, blank=True)
    run = models.ForeignKey(PremiumRun, null=True, blank=True, on_delete=models.PROTECT, related_name="coverages")
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    class Meta:
        # never twice for a person and year: the premium run and a recorded coverage both stop here
        constraints = [models.UniqueConstraint(fields=["person", "year"], name="coverage_once_a_year")]


class TBCase(models.Model):
    """A pulmonary TB patient under treatment management (肺结核患者健康管理): visits are due from
    the start of treatment at the pack's intervals until the course ends."""

    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="tb_cases")
    started_on = models.DateField("开始治疗日期")
    ended_on = models.DateField("停止治疗日期", null=True, blank=True)
    outcome = models.CharField("治疗结果", max_length=10, blank=True,
                               choices=[("cured", "治愈"), ("completed", "完成疗程"), ("failed", "失败"),
                                        ("died", "死亡"), ("lost", "失访")])
    opened_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["person"], condition=models.Q(ended_on__isnull=True),
                                               name="tb_case_one_open")]


class Consultation(models.Model):
    """远程会诊: a township (or county) hospital asks a higher-level hospital about a patient;
    the consultant hospital's opinion is recorded as its answer."""

    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="consultations")
    requester = models.ForeignKey(Hospital, on_delete=models.PROTECT, related_name="+", verbose_name="申请医院")
    consultant = models.ForeignKey(Hospital, on_delete=models.PROTECT, related_name="+", verbose_name="会诊医院")
    requested_on = models.DateField("申请日期")
    question = models.CharField("会诊目的", max_length=200)
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    answered_on = models.DateField("会诊日期", null=True, blank=True)
    opinion = models.CharField("会诊意见", max_length=500, blank=True)
    answered_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")


class MobileClinic(models.Model):
    """巡回医疗: one outing of a hospital's team to a township (free for the poor, seed 004)."""

    hospital = models.ForeignKey(Hospital, on_delete=models.PROTECT, related_name="+", verbose_name="医疗机构")
    township = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", verbose_name="巡诊乡镇")
    date = models.DateField("日期")
    persons = models.PositiveIntegerField("诊疗人次")
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["hospital", "township", "date"], name="mobile_clinic_once")]
