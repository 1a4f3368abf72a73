"""Pairing helpers with households, visits, measures, work teams (SPEC §8)."""
from __future__ import annotations

from django.db import models
from django.db.models import Q

from fupin.core.models import Region, User


class Unit(models.Model):
    name = models.CharField("帮扶单位", max_length=80, unique=True)
    region = models.ForeignKey(Region, on_delete=models.PROTECT)
    active = models.BooleanField("在用", default=True)


class HelperKind(models.TextChoices):
    LEADER = "leader", "领导干部"          # pairs with 2 households (pack)
    STAFF = "staff", "一般干部"            # pairs with 1 household (pack)
    EXEMPT = "exempt", "免于结对"          # near retirement or in hardship


class ExemptReason(models.TextChoices):
    NEAR_RETIREMENT = "near_retirement", "临近退休"
    HARDSHIP = "hardship", "家庭困难"


class Helper(models.Model):
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="helpers")
    name = models.CharField("姓名", max_length=40)
    kind = models.CharField("类别", max_length=10, choices=HelperKind.choices)
    title = models.CharField("职务", max_length=40, blank=True)
    exempt_reason = models.CharField("免于结对原因", max_length=16, choices=ExemptReason.choices, blank=True)
    user = models.OneToOneField(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="helper")
    active = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["unit", "name"], name="helper_unique_in_unit")]

    def __str__(self):
        return self.name


class Pair(models.Model):
    helper = models.ForeignKey(Helper, on_delete=models.PROTECT, related_name="pairs")
    household = models.ForeignKey("registry.Household", on_delete=models.PROTECT, related_name="pairs")
    start = models.DateField()
    locked_until = models.DateField("结对期满日")
    ended_on = models.DateField(null=True, blank=True)
    end_reason = models.CharField(max_length=20, blank=True)
    replaced_by = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaces")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["household"], condition=Q(ended_on__isnull=True),
                                               name="one_current_helper_per_household")]


class Visit(models.Model):
    helper = models.ForeignKey(Helper, on_delete=models.PROTECT, related_name="visits")
    household = models.ForeignKey("registry.Household", on_delete=models.PROTECT, related_name="visits")
    date = models.DateField("走访日期")
    minutes = models.PositiveIntegerField("时长（分钟）")
    done = models.CharField("做了什么", max_length=500)
    found = models.CharField("发现的问题", max_length=500, blank=True)
    satisfaction = models.CharField("满意度", max_length=12, blank=True,
                                    choices=[("satisfied", "满意"), ("fair", "基本满意"), ("unsatisfied", "不满意")])
    client_token = models.CharField(max_length=64, unique=True)   # a retried submission creates one visit
    recorded_at = models.DateTimeField(auto_now_add=True)


class VisitPhoto(models.Model):
    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="photos")
    file = models.CharField(max_length=200)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True)
    bytes = models.PositiveIntegerField()


class Measure(models.Model):
    helper = models.ForeignKey(Helper, on_delete=models.PROTECT, related_name="measures")
    household = models.ForeignKey("registry.Household", on_delete=models.PROTECT, related_name="measures")
    kind = models.CharField("类型", max_length=20)
    money = models.BigIntegerField("投入资金（分）")
    date = models.DateField()
    description = models.CharField("内容", max_length=300)


class Team(models.Model):
    name = models.CharField("驻村工作队", max_length=80)
    village = models.ForeignKey(Region, on_delete=models.PROTECT)
    active = models.BooleanField("在驻", default=True)


class TeamMember(models.Model):
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="members")
    name = models.CharField(max_length=40)
    active = models.BooleanField("在队", default=True)
    user = models.OneToOneField(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="team_member")


class TeamDay(models.Model):
    member = models.ForeignKey(TeamMember, on_delete=models.CASCADE, related_name="days")
    date = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["member", "date"], name="team_day_once")]


class Survey(models.Model):
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="surveys")
    household = models.ForeignKey("registry.Household", on_delete=models.PROTECT, related_name="surveys")
    date = models.DateField()
    note = models.CharField(max_length=300, blank=True)
