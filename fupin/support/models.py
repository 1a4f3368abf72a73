"""Counterpart hospital support: departments, staff, the rotation plan, records, assessments (SPEC §9)."""
from __future__ import annotations

from django.db import models

from fupin.core.models import User


class Department(models.Model):
    hospital = models.ForeignKey("health.Hospital", on_delete=models.PROTECT, related_name="departments")
    name = models.CharField("科室", max_length=40)
    order = models.PositiveSmallIntegerField("轮派顺序")

    class Meta:
        ordering = ["hospital", "order"]
        constraints = [models.UniqueConstraint(fields=["hospital", "name"], name="department_unique"),
                       models.UniqueConstraint(fields=["hospital", "order"], name="department_order_unique")]

    def __str__(self):
        return self.name


class Title(models.TextChoices):
    JUNIOR = "junior", "初级"
    INTERMEDIATE = "intermediate", "中级"
    ASSOCIATE_SENIOR = "associate_senior", "副高级"
    SENIOR = "senior", "正高级"


class Staff(models.Model):
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="staff")
    name = models.CharField("姓名", max_length=40)
    title = models.CharField("职称", max_length=20, choices=Title.choices, default=Title.INTERMEDIATE)
    user = models.OneToOneField(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="support_staff")
    priority = models.BooleanField("因晋升需要申请优先派驻", default=False)

    class Meta:
        ordering = ["department", "id"]

    def __str__(self):
        return self.name


class Dispatch(models.Model):
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="dispatches")
    supported = models.ForeignKey("health.Hospital", on_delete=models.PROTECT, related_name="+", verbose_name="受援医院")
    year = models.PositiveSmallIntegerField()
    quarter = models.PositiveSmallIntegerField()
    handover = models.DateField("交接日")
    handover_note = models.CharField(max_length=120)
    end = models.DateField("结束日")
    cycle = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["year", "quarter"]
        constraints = [models.UniqueConstraint(fields=["department", "year", "quarter"], name="dispatch_unique")]


class Member(models.Model):
    dispatch = models.ForeignKey(Dispatch, on_delete=models.CASCADE, related_name="members")
    staff = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="memberships")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["dispatch", "staff"], name="member_unique")]


class Deferral(models.Model):
    """A department's deferral in one cycle — at most one (the database enforces it)."""

    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="deferrals")
    cycle = models.PositiveSmallIntegerField()
    decision = models.CharField(max_length=10, choices=[("auto", "自动顺延一批"), ("last", "调到最后一批")])
    reason = models.CharField(max_length=200)
    decided_by = models.ForeignKey(User, on_delete=models.PROTECT)
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["department", "cycle"], name="deferral_once_per_cycle")]


class PlanChange(models.Model):
    """A change of person caused by an accident: published in that month's quality-control bulletin."""

    dispatch = models.ForeignKey(Dispatch, on_delete=models.PROTECT)
    month = models.CharField("月份", max_length=7)
    replaced = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    replacement = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    description = models.CharField("事由", max_length=300)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT)
    recorded_at = models.DateTimeField(auto_now_add=True)


class Activity(models.Model):
    KINDS = [("teaching", "授课"), ("round", "查房"), ("attendance", "出勤")]
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="activities")
    kind = models.CharField(max_length=12, choices=KINDS)
    date = models.DateField()
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["member", "kind", "date"], name="activity_once_a_day")]


class Leave(models.Model):
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="leaves")
    start = models.DateField()
    days = models.PositiveSmallIntegerField()
    head_approved = models.BooleanField("受援医院院长已批准")
    explanation = models.CharField("向医务部主任的书面说明", max_length=500, blank=True)
    informed_medical_affairs = models.BooleanField("已电话告知医务部", default=False)


class UnauthorisedReturn(models.Model):
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="unauthorised")
    kind = models.CharField(max_length=10, choices=[("recall", "科室擅自召回"), ("return", "本人无故返回")])
    days = models.PositiveSmallIntegerField("工作日数")
    start = models.DateField("开始日期", null=True)
    note = models.CharField("情况", max_length=200, blank=True)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT)


class Assessment(models.Model):
    member = models.OneToOneField(Member, on_delete=models.PROTECT, related_name="assessment")
    result = models.JSONField()
    report_received = models.BooleanField("已交个人总结", default=False)
    approved_by = models.ForeignKey(User, null=True, on_delete=models.PROTECT, related_name="+")
    approved_at = models.DateTimeField(null=True)


class SanctionKind(models.TextChoices):
    PERSON_FINE = "person_fine", "个人罚款"          # per working day away without leave (pack)
    DEDUCTION = "deduction", "扣发下乡补助"          # failed assessment items (kept out of the allowance)
    DEPT_FINE = "dept_fine", "科室罚款"              # recall without leave, or three items failed
    DEPT_REWARD = "dept_reward", "科室奖励"          # per person dispatched
    REFUSAL_FINE = "refusal_fine", "科室拒派罚款"    # a department refusing without reason


class Sanction(models.Model):
    """A fine or reward of counterpart support (下乡考核及奖惩), with its reason and the pack value's
    source; money ones are on the ledger (`transaction`), a deduction is what the allowance kept back."""
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="sanctions")
    staff = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.PROTECT, related_name="sanctions")
    member = models.ForeignKey(Member, null=True, blank=True, on_delete=models.PROTECT, related_name="sanctions")
    dispatch = models.ForeignKey(Dispatch, null=True, blank=True, on_delete=models.PROTECT, related_name="sanctions")
    kind = models.CharField("类别", max_length=14, choices=SanctionKind.choices)
    amount = models.BigIntegerField("金额（分）")
    reason = models.CharField("事由", max_length=300)
    source = models.CharField("依据", max_length=300)
    date = models.DateField("日期")
    transaction = models.ForeignKey("funds.Transaction", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["date", "id"]
