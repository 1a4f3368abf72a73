"""Public-health programmes (issue #22 §3; seeds 000, 002, 004): the activities of the programmes the
seeds name (free check-ups, health lectures, medicine delivery, the two-cancer screening …) with
dates, places and participants; and the yearly figures of the public-health indicators that the
health systems report (numerator and denominator per region), rated against the pack's targets.
Programme kinds and indicators are data (policies/lists/public_health.yaml). Separate from
fupin/health (settlement, certificates, family doctors), which it does not touch."""
from __future__ import annotations

from django.db import models

from fupin.core.models import Region, User


class Activity(models.Model):
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", verbose_name="乡镇或村")
    programme = models.CharField("项目", max_length=24)        # a code of policies/lists/public_health.yaml
    date = models.DateField("日期")
    place = models.CharField("地点", max_length=80)
    organiser = models.CharField("组织单位", max_length=80, blank=True)
    participants = models.PositiveIntegerField("参加人数")       # persons served / attending (the programme's unit)
    note = models.CharField("情况说明", max_length=300, blank=True)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["region", "date"])]


class Figure(models.Model):
    """One indicator of one region (township or village; a county figure counts in its total only)
    for one year, as the health system reported it."""

    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", verbose_name="区划")
    year = models.PositiveSmallIntegerField("年度")
    indicator = models.CharField("指标", max_length=32)
    numerator = models.PositiveIntegerField("分子")
    denominator = models.PositiveIntegerField("分母")
    source = models.CharField("数据来源", max_length=80, blank=True)   # e.g. 免疫规划信息系统
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["year", "indicator", "region_id"]
        constraints = [models.UniqueConstraint(fields=["region", "year", "indicator"], name="figure_once_per_region_year"),
                       models.CheckConstraint(condition=models.Q(denominator__gt=0), name="figure_denominator_positive")]
