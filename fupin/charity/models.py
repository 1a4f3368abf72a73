"""Donations and charity programmes (SPEC §11, seed 004): donors, donations with receipts,
Poverty Alleviation Day campaigns with pledges, and grants of the charity programmes (whose
rules are pack data, `charity.programmes`). Cash moves only on the ledger."""
from __future__ import annotations

from django.db import models

from fupin.core.models import Region, User


class DonorKind(models.TextChoices):
    UNIT = "unit", "机关事业单位"
    STAFF = "staff", "干部职工"
    ENTERPRISE = "enterprise", "企业"
    PUBLIC = "public", "社会公众"


class Donor(models.Model):
    name = models.CharField("捐赠人", max_length=120)
    kind = models.CharField("类型", max_length=12, choices=DonorKind.choices)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, verbose_name="登记县")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["region", "name"], name="donor_once_per_county")]


class Campaign(models.Model):
    """A Poverty Alleviation Day (扶贫日) campaign of one county and year."""
    name = models.CharField("活动名称", max_length=120)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, verbose_name="县")
    year = models.PositiveSmallIntegerField("年度")
    day = models.DateField("扶贫日")
    token = models.CharField(max_length=32, unique=True)    # the public account's address

    class Meta:
        constraints = [models.UniqueConstraint(fields=["region", "year"], name="campaign_one_per_county_year")]


class Pledge(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="pledges")
    donor = models.ForeignKey(Donor, on_delete=models.PROTECT, related_name="pledges")
    amount = models.BigIntegerField("认捐金额（分）")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "donor"], name="pledge_once_per_donor")]


class DonationKind(models.TextChoices):
    CASH = "cash", "资金"
    IN_KIND = "in_kind", "物资"


class Donation(models.Model):
    number = models.CharField("票据号", max_length=32, unique=True)
    donor = models.ForeignKey(Donor, on_delete=models.PROTECT, related_name="donations")
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.PROTECT, related_name="donations")
    sunshine_class = models.ForeignKey("SunshineClass", null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="donations", verbose_name="定向冠名阳光班")
    date = models.DateField("捐赠日期")
    kind = models.CharField("形式", max_length=8, choices=DonationKind.choices)
    amount = models.BigIntegerField("金额或估价（分）")
    items = models.CharField("物资名称及数量", max_length=200, blank=True)
    designation = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+",
                                    verbose_name="定向（村集体账户或县级统筹）")
    transaction = models.ForeignKey("funds.Transaction", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "-id"]


class SunshineClass(models.Model):
    """A 慈善阳光班 of one school and entry year. Funded jointly (province and county charities,
    the pack's split) or by one named sponsor (冠名): then the sponsor's donations are earmarked
    to the class's own fund and its students' grants are paid from it in full."""
    name = models.CharField("班级名称", max_length=80)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, verbose_name="县")
    school = models.ForeignKey("education.School", on_delete=models.PROTECT, related_name="+", verbose_name="学校")
    year = models.PositiveSmallIntegerField("入学年度")
    sponsor = models.ForeignKey(Donor, null=True, blank=True, on_delete=models.PROTECT, related_name="classes",
                                verbose_name="冠名捐赠方")
    token = models.CharField(max_length=32, unique=True)    # the sponsor's statement page

    class Meta:
        constraints = [models.UniqueConstraint(fields=["school", "year"], name="sunshine_class_per_school_year")]


class GrantCall(models.Model):
    """The opening step of a programme in a county and year (下发通知、发布公告): the call for
    applications with its dates. Applications are taken from `published` to `apply_until`."""
    region = models.ForeignKey(Region, on_delete=models.PROTECT, verbose_name="县")
    programme = models.CharField("项目", max_length=30)
    label = models.CharField("项目名称", max_length=40)
    year = models.PositiveSmallIntegerField("年度")
    title = models.CharField("通知标题", max_length=120)
    content = models.CharField("公告内容（申报条件、材料、地点）", max_length=1000, blank=True)
    published = models.DateField("发布日期")
    apply_until = models.DateField("申报截止日期")
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-year", "programme"]
        constraints = [models.UniqueConstraint(fields=["region", "programme", "year"], name="grant_call_once_a_year")]


class GrantState(models.TextChoices):
    APPLIED = "applied", "评审中"       # eligibility checked when applying; the pack's review steps follow
    NOTICE = "notice", "公示中"         # every review passed; the public notice runs its days
    APPROVED = "approved", "已确定"     # decided after the notice, no objection upheld
    PAID = "paid", "已拨款"             # paid through the ledger
    VISITED = "visited", "已回访"       # follow-up visit recorded
    REJECTED = "rejected", "未通过"


class Grant(models.Model):
    programme = models.CharField("项目", max_length=30)
    label = models.CharField("项目名称", max_length=40)
    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="charity_grants")
    year = models.PositiveSmallIntegerField("年度")
    instalment = models.PositiveSmallIntegerField("第几年", default=1)
    amount = models.BigIntegerField("金额（分）")
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.PROTECT, related_name="grants")
    state = models.CharField("状态", max_length=10, choices=GrantState.choices, default=GrantState.APPLIED)
    step = models.PositiveSmallIntegerField("下一评审步骤", default=0)
    notice_from = models.DateField("公示开始", null=True, blank=True)
    notice_until = models.DateField("公示截止", null=True, blank=True)
    decided_on = models.DateField("确定日期", null=True, blank=True)
    sunshine_class = models.ForeignKey(SunshineClass, null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="grants", verbose_name="阳光班")
    explanation = models.JSONField("资格审查说明", default=list)
    transaction = models.ForeignKey("funds.Transaction", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    note = models.CharField("审定意见或回访记录", max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-year", "id"]
        # one grant of a programme per student and instalment: never the same grant twice
        constraints = [models.UniqueConstraint(fields=["programme", "person", "instalment"],
                                               name="grant_once_per_instalment")]


class ObjectionResult(models.TextChoices):
    OPEN = "", "待处理"
    UPHELD = "upheld", "异议成立，取消资助"
    DISMISSED = "dismissed", "异议不成立，维持"


class GrantObjection(models.Model):
    """An objection raised while a grant's public notice runs (公示期内的异议)."""
    grant = models.ForeignKey(Grant, on_delete=models.PROTECT, related_name="objections")
    received = models.DateField("收到日期")
    objector = models.CharField("反映人（可匿名）", max_length=60, blank=True)
    content = models.CharField("异议内容", max_length=500)
    result = models.CharField("处理结果", max_length=10, choices=ObjectionResult.choices, blank=True, default="")
    finding = models.CharField("核查情况", max_length=500, blank=True)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    handled_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    handled_on = models.DateField("处理日期", null=True, blank=True)

    class Meta:
        ordering = ["grant_id", "received", "id"]
