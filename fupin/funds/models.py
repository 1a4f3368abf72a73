"""The funds ledger: append-only, double-entry, integer fen (SPEC §10).

Sign convention: an entry's amount is money *into* its account. An allocation moves money
from a funding-source account into a budget line; a payment from a budget line to a payee.
Every transaction's entries sum to zero. Balances are sums of entries, never stored.
"""
from __future__ import annotations

from django.db import models

from fupin.core.models import Region, User


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("账簿记录只能追加，不能修改；更正请冲销后重记")

    def delete(self):
        raise PermissionError("账簿记录只能追加，不能删除；更正请冲销后重记")


class AppendOnly(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("账簿记录只能追加，不能修改；更正请冲销后重记")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("账簿记录只能追加，不能删除；更正请冲销后重记")


class FundingSource(models.TextChoices):
    CENTRAL = "central", "中央财政"
    PROVINCIAL = "provincial", "省级财政"
    CITY_COUNTY = "city_county", "市县财政"
    SOCIAL = "social", "社会帮扶"
    DONATION = "donation", "捐赠"


class AccountKind(models.TextChoices):
    SOURCE = "source", "资金来源"      # outside money; may go negative (what came in)
    BUDGET = "budget", "预算科目"      # a budget line; never below zero
    PAYEE = "payee", "受益对象"        # a person, household or institution paid


class PayeeType(models.TextChoices):
    PERSON = "person", "个人"
    HOUSEHOLD = "household", "户"
    INSTITUTION = "institution", "机构"


class Programme(models.TextChoices):
    """The programmes a budget line is picked for on the funds page (rooms find their budget lines by
    this code: a semester run offers the `education` lines)."""
    EDUCATION = "education", "教育资助"
    PROJECT = "project", "扶贫项目"
    CHARITY = "charity", "社会帮扶"
    OTHER = "", "其他"


# What each room's decision_type (the kind of document a payment rests on) reads as in summaries.
DECISION_LABELS = {
    "allocation": "拨款文件", "charity_grant": "慈善资助", "college_entrant_aid": "大学新生资助", "donation": "捐赠",
    "fixed_subsidy": "定额补助", "premium_run": "资助参保", "project_allocation": "项目资金拨付", "project_payment": "项目支付",
    "public_job_pay": "公益岗位补贴", "settlement": "医疗结算", "subsidy_run": "教育资助计算",
    "support_assessment": "对口支援考核", "training_subsidy": "培训补助",
}


class Account(models.Model):
    code = models.CharField("科目编码", max_length=80, unique=True)
    name = models.CharField("名称", max_length=120)
    kind = models.CharField("类型", max_length=10, choices=AccountKind.choices)
    source = models.CharField("资金来源", max_length=12, choices=FundingSource.choices, blank=True)
    programme = models.CharField("项目类别", max_length=40, blank=True)
    year = models.PositiveSmallIntegerField("年度", null=True, blank=True)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, null=True, blank=True)
    payee_type = models.CharField(max_length=12, choices=PayeeType.choices, blank=True)
    person = models.ForeignKey("registry.Person", null=True, blank=True, on_delete=models.PROTECT)
    household = models.ForeignKey("registry.Household", null=True, blank=True, on_delete=models.PROTECT)
    payee_id_number = models.CharField("收款人证件号码", max_length=20, blank=True)
    payee_name = models.CharField("收款人", max_length=120, blank=True)

    class Meta:
        ordering = ["code"]


class TxnKind(models.TextChoices):
    ALLOCATION = "allocation", "拨入"
    PAYMENT = "payment", "支付"
    REVERSAL = "reversal", "冲销"


class Transaction(AppendOnly):
    kind = models.CharField(max_length=12, choices=TxnKind.choices)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    date = models.DateField("业务日期")
    actor = models.ForeignKey(User, null=True, on_delete=models.PROTECT)
    decision_type = models.CharField("决定类型", max_length=40)   # subsidy_run, settlement, grant, allocation
    decision_id = models.CharField("决定编号", max_length=64)
    entitlement = models.CharField("待遇项目", max_length=80, blank=True)
    period = models.CharField("期间", max_length=20, blank=True)
    memo = models.CharField("摘要", max_length=200, blank=True)
    reverses = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="reversals")

    class Meta:
        indexes = [models.Index(fields=["decision_type", "decision_id"]),
                   models.Index(fields=["entitlement", "period"])]


class Entry(AppendOnly):
    """One line of a transaction. A payment line names what it pays (entitlement and period),
    so one transaction can carry a whole run's payments; each line can be reversed once."""

    transaction = models.ForeignKey(Transaction, on_delete=models.PROTECT, related_name="entries")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries")
    amount = models.BigIntegerField("金额（分，入为正）")
    entitlement = models.CharField("待遇项目", max_length=80, blank=True)
    period = models.CharField("期间", max_length=20, blank=True)
    reverses = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversals",
                                 db_index=False)

    class Meta:
        # lookups go by account (duplicates, balances); no other index is paid for on every insert
        indexes = [models.Index(fields=["account"])]
        # each line is reversed at most once; the constraint only indexes the few reversing lines
        constraints = [models.UniqueConstraint(fields=["reverses"], condition=models.Q(reverses__isnull=False),
                                               name="entry_reversed_once")]
