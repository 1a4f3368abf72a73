"""The labour-force database of poor families (贫困家庭劳动力数据库, seed 000), training
(雨露计划 and short courses, seed 003) and public-welfare jobs (公益性岗位)."""
from __future__ import annotations

from django.db import models
from django.db.models import Q

from fupin.core.models import Region


class Capacity(models.TextChoices):
    FULL = "full", "全劳力"          # can do a full day's work
    PARTIAL = "partial", "半劳力"    # light or part-time work only
    NONE = "none", "无劳力"          # cannot work (illness, disability, age)


class Employment(models.TextChoices):
    LOCAL = "local", "县内务工"
    OUT_COUNTY = "out_county", "县外省内务工"
    OUT_PROVINCE = "out_province", "省外务工"
    SELF_EMPLOYED = "self_employed", "自主创业或个体经营"
    PUBLIC_JOB = "public_job", "公益性岗位"
    NONE = "none", "未就业"


class LabourRecord(models.Model):
    """One working-age member's labour situation in one year (one row per person and year)."""

    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="labour_records")
    year = models.PositiveSmallIntegerField("年度")
    capacity = models.CharField("劳动能力", max_length=8, choices=Capacity.choices)
    skills = models.CharField("技能特长", max_length=100, blank=True)
    employment = models.CharField("就业情况", max_length=16, choices=Employment.choices)
    employer = models.CharField("就业单位或地点", max_length=100, blank=True)
    months = models.PositiveSmallIntegerField("务工月数", default=0)
    monthly_income = models.BigIntegerField("月收入（分）", default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-year", "person_id"]
        constraints = [
            models.UniqueConstraint(fields=["person", "year"], name="labour_record_once_a_year"),
            models.CheckConstraint(condition=Q(months__lte=12), name="labour_months_le_12"),
            models.CheckConstraint(condition=Q(monthly_income__gte=0), name="labour_income_not_negative"),
        ]


class CourseKind(models.TextChoices):
    YULU_LONG = "yulu_long", "雨露计划长班（职业教育）"
    SHORT = "short", "短期技能培训"


class Course(models.Model):
    name = models.CharField("培训班名称", max_length=80)
    kind = models.CharField("类别", max_length=12, choices=CourseKind.choices)
    county = models.ForeignKey(Region, on_delete=models.PROTECT, verbose_name="举办县")
    provider = models.CharField("培训机构", max_length=80)
    start = models.DateField("开班日期")
    end = models.DateField("结业日期")
    sessions = models.PositiveSmallIntegerField("课次")

    class Meta:
        ordering = ["-start", "name"]
        constraints = [models.CheckConstraint(condition=Q(end__gte=models.F("start")), name="course_end_after_start"),
                       models.CheckConstraint(condition=Q(sessions__gte=1), name="course_has_sessions")]

    def __str__(self):
        return self.name


class Enrolment(models.Model):
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="enrolments")
    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="trainings")
    enrolled_on = models.DateField("报名日期")
    completed_on = models.DateField("结业日期", null=True, blank=True)
    certificate = models.CharField("证书编号", max_length=40, blank=True)

    class Meta:
        ordering = ["course_id", "person_id"]
        constraints = [models.UniqueConstraint(fields=["course", "person"], name="enrolment_once_per_course")]


class Attendance(models.Model):
    """One session attended (the sign-in sheet of one day)."""

    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="attendance")
    date = models.DateField("日期")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["enrolment", "date"], name="attendance_once_a_day")]


class Post(models.Model):
    """A public-welfare job (公益性岗位): a village road keeper, cleaner, forest ranger …"""

    name = models.CharField("岗位名称", max_length=60)
    village = models.ForeignKey(Region, on_delete=models.PROTECT, verbose_name="所在村")
    monthly_pay = models.BigIntegerField("每月岗位补贴（分）")
    active = models.BooleanField("在设", default=True)

    class Meta:
        ordering = ["village_id", "name"]
        constraints = [models.CheckConstraint(condition=Q(monthly_pay__gt=0), name="post_pay_positive")]


class Holding(models.Model):
    """Who holds a post, from when to when; a post has one holder at a time."""

    post = models.ForeignKey(Post, on_delete=models.PROTECT, related_name="holdings")
    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="post_holdings")
    start = models.DateField("上岗日期")
    end = models.DateField("离岗日期", null=True, blank=True)

    class Meta:
        ordering = ["-start"]
        constraints = [models.UniqueConstraint(fields=["post"], condition=Q(end__isnull=True),
                                               name="one_current_holder_per_post")]
