"""The village register (村级档案): one record per village of the region tree (level 5), its
yearly finance, and who is responsible for it, with history (SPEC §5, §8; seeds 000–003)."""
from __future__ import annotations

from django.db import models

from fupin.core.models import Region, User


class PoorKind(models.TextChoices):
    NONE = "none", "非贫困村"        # never listed, or listed and since exited (exited_on says which)
    POOR = "poor", "贫困村"          # listed as a poor village (建档立卡贫困村)
    KEY = "key", "重点贫困村"         # a poor village singled out for 整村推进 / 千村扶贫 (seed 002, 003)


class Village(models.Model):
    """The register of one village. Poverty dates: listed as poor, made a key poor village, exited
    as a whole; their changes are audit events (the village's timeline)."""

    region = models.OneToOneField(Region, primary_key=True, on_delete=models.PROTECT, related_name="village_record",
                                  verbose_name="村")
    poor_kind = models.CharField("贫困村类别", max_length=8, choices=PoorKind.choices, default=PoorKind.NONE)
    poor_since = models.DateField("认定为贫困村日期", null=True, blank=True)
    key_since = models.DateField("列为重点贫困村日期", null=True, blank=True)
    exited_on = models.DateField("整村退出日期", null=True, blank=True)
    households = models.PositiveIntegerField("户数", default=0)
    population = models.PositiveIntegerField("户籍人口", default=0)
    arable_land_mu = models.DecimalField("耕地面积（亩）", max_digits=10, decimal_places=2, default=0)
    road_km = models.DecimalField("通村道路（公里）", max_digits=8, decimal_places=2, default=0)
    road_hardened = models.BooleanField("通村道路已硬化", default=False)
    wells = models.PositiveIntegerField("水井（口）", default=0)
    piped_water = models.BooleanField("通自来水", default=False)
    electricity = models.BooleanField("通动力电", default=False)
    broadband = models.BooleanField("通宽带", default=False)
    clinic = models.BooleanField("有标准化卫生室", default=False)
    culture_room = models.BooleanField("有文化室", default=False)
    # The village's collective account (村集体账户, "三资账户" in seed 004): a funds account,
    # created by funds.services.account_for; its balance is the ledger's.
    collective_account = models.ForeignKey("funds.Account", null=True, blank=True, on_delete=models.PROTECT,
                                           related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["region_id"]
        verbose_name = "村级档案"

    def __str__(self):
        return self.region.name


class Finance(models.Model):
    """A village's finances for one year (money in fen): income, collective economy income, and
    debt such as road-building debt (seed 000: 整治村社道路出现资金短缺)."""

    village = models.ForeignKey(Village, on_delete=models.PROTECT, related_name="finances")
    year = models.PositiveSmallIntegerField("年度")
    income = models.BigIntegerField("村级收入（分）", default=0)
    collective_income = models.BigIntegerField("集体经济收入（分）", default=0)
    debt = models.BigIntegerField("负债（分）", default=0)
    debt_note = models.CharField("负债说明", max_length=200, blank=True)

    class Meta:
        ordering = ["village", "-year"]
        constraints = [models.UniqueConstraint(fields=["village", "year"], name="village_finance_once_a_year")]


class DutyKind(models.TextChoices):
    AID_UNIT = "aid_unit", "定点帮扶单位"          # "千村扶贫" and unit-to-village programmes (seed 002)
    LIAISON_LEADER = "liaison_leader", "联系领导"  # senior leader who liaises with the village (seed 000)
    ZONE_STAFF = "zone_staff", "片区包村干部"        # staff assigned to a survey zone (seed 004: 包村领导)
    YOUNG_STAFF = "young_staff", "驻村年轻干部"      # young staff sent in rotation (seed 000: 第15批驻村工作组)


class Duty(models.Model):
    """Who is responsible for a village, from when to when. A rotation ends the predecessor the day
    before the successor starts (`replaces`), so the history reads as a chain."""

    village = models.ForeignKey(Village, on_delete=models.PROTECT, related_name="duties")
    kind = models.CharField("类别", max_length=16, choices=DutyKind.choices)
    name = models.CharField("单位或姓名", max_length=80)
    unit = models.CharField("所在单位与职务", max_length=80, blank=True)
    programme = models.CharField("帮扶项目", max_length=40, blank=True)  # e.g. 千村扶贫、定点扶贫
    start = models.DateField("开始日期")
    end = models.DateField("结束日期", null=True, blank=True)          # empty: still responsible
    replaces = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="successor", verbose_name="接替")
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["village", "kind", "-start", "-id"]
