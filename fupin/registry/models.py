"""Households, persons, incomes, the three guarantees, and membership events (SPEC §3)."""
from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from fupin.core.models import Region, User

from . import validators
from .choices import (Assistance, Attribute, Cause, Education, EventKind, GuaranteeItem, Health,
                      HousingGrade, Labour, Relation, Schooling, Sex, Standard, Status)


class Household(models.Model):
    number = models.CharField("户编号", max_length=24, unique=True, validators=[validators.household_number])
    village = models.ForeignKey(Region, on_delete=models.PROTECT, verbose_name="所属村",
                                related_name="households")
    standard = models.CharField("识别标准", max_length=12, choices=Standard.choices,
                                default=Standard.NATIONAL)
    attribute = models.CharField("贫困户属性", max_length=12, choices=Attribute.choices)
    main_cause = models.CharField("主要致贫原因", max_length=12, choices=Cause.choices)
    other_cause_1 = models.CharField("其他致贫原因一", max_length=12, choices=Cause.choices, blank=True)
    other_cause_2 = models.CharField("其他致贫原因二", max_length=12, choices=Cause.choices, blank=True)
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.APPLIED)
    status_since = models.DateField("状态起始日期", null=True, blank=True)
    phone = models.CharField("联系电话", max_length=20, blank=True, validators=[validators.phone])
    address = models.CharField("住址", max_length=120, blank=True)
    housing_area = models.DecimalField("住房面积（㎡）", max_digits=8, decimal_places=2, null=True, blank=True)
    housing_structure = models.CharField("住房结构", max_length=20, blank=True)
    housing_year = models.PositiveSmallIntegerField("建房年份", null=True, blank=True)
    housing_grade = models.CharField("住房安全等级", max_length=1, choices=HousingGrade.choices, blank=True)
    relocated = models.BooleanField("易地扶贫搬迁", default=False)
    electricity = models.BooleanField("通生活用电", default=True)
    fuel = models.CharField("主要燃料", max_length=20, blank=True)
    market_distance_km = models.DecimalField("距集市（公里）", max_digits=6, decimal_places=1,
                                             null=True, blank=True)
    bank_name = models.CharField("开户银行", max_length=60, blank=True)
    bank_account = models.CharField("银行账号", max_length=32, blank=True, validators=[validators.bank_account])
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["number"]
        verbose_name = "户"
        indexes = [models.Index(fields=["village", "status"]), models.Index(fields=["status"]),
                   models.Index(fields=["main_cause"]), models.Index(fields=["attribute"])]
        constraints = [
            models.CheckConstraint(condition=~Q(other_cause_1=F("main_cause")) | Q(other_cause_1=""),
                                   name="household_other_cause_differs",
                                   violation_error_message="其他致贫原因不能与主要致贫原因相同"),
        ]

    def __str__(self) -> str:
        return self.number


class Person(models.Model):
    """A person. `household` is the one household the person belongs to now: a single
    foreign-key column, so the database itself makes two memberships impossible.
    NULL means the person has left every registered household (married or moved out)."""

    household = models.ForeignKey(Household, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="persons", verbose_name="所在户")
    name = models.CharField("姓名", max_length=40, db_index=True)
    sex = models.CharField("性别", max_length=1, choices=Sex.choices)
    id_number = models.CharField("证件号码", max_length=20, unique=True)
    id_reversed = models.CharField(max_length=20, db_index=True, editable=False)
    birth_date = models.DateField("出生日期")
    relation = models.CharField("与户主关系", max_length=16, choices=Relation.choices)
    ethnicity = models.CharField("民族", max_length=10, default="汉族")
    education = models.CharField("文化程度", max_length=12, choices=Education.choices, blank=True)
    schooling = models.CharField("在校生状况", max_length=16, choices=Schooling.choices,
                                 default=Schooling.NOT_IN_SCHOOL)
    health = models.CharField("健康状况", max_length=12, choices=Health.choices, default=Health.HEALTHY)
    disability_category = models.CharField("残疾类别", max_length=12, blank=True)
    disability_grade = models.PositiveSmallIntegerField("残疾等级", null=True, blank=True)
    labour = models.CharField("劳动技能", max_length=12, choices=Labour.choices)
    migrant_months = models.PositiveSmallIntegerField("务工时间（月）", default=0)
    migrant_place = models.CharField("务工地点", max_length=60, blank=True)
    medical_insurance = models.BooleanField("参加城乡居民基本医疗保险", default=True)
    pension_insurance = models.BooleanField("参加城乡居民基本养老保险", default=False)
    assistance = models.CharField("低保/特困", max_length=8, choices=Assistance.choices,
                                  default=Assistance.NONE)
    alive = models.BooleanField("在世", default=True)
    death_date = models.DateField("死亡日期", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["household_id", "id"]
        verbose_name = "人员"
        constraints = [
            models.UniqueConstraint(fields=["household"], condition=Q(relation="head", alive=True),
                                    name="person_one_living_head_per_household",
                                    violation_error_message="该户已有户主，一户只能有一位在世户主"),
            models.CheckConstraint(condition=Q(migrant_months__lte=12), name="person_migrant_months_le_12",
                                   violation_error_message="务工时间不能超过12个月"),
            models.CheckConstraint(condition=Q(alive=True) | Q(death_date__isnull=False),
                                   name="person_deceased_has_date",
                                   violation_error_message="已死亡人员须填写死亡日期"),
            models.CheckConstraint(condition=Q(disability_grade__isnull=True)
                                   | Q(disability_grade__gte=1, disability_grade__lte=4),
                                   name="person_disability_grade_1_4",
                                   violation_error_message="残疾等级应为1至4级"),
        ]

    def save(self, *args, **kwargs):
        self.id_reversed = self.id_number[::-1]
        super().save(*args, **kwargs)

    def __str__(self) -> str:
        return self.name


class Income(models.Model):
    """A household's income for one year, in integer fen (SPEC §3.3)."""

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="incomes")
    year = models.PositiveSmallIntegerField("年度")
    wages = models.BigIntegerField("工资性收入（分）")
    business = models.BigIntegerField("家庭经营性收入（分）")
    transfers = models.BigIntegerField("转移性收入（分）")
    property_income = models.BigIntegerField("财产性收入（分）")
    costs = models.BigIntegerField("生产经营性支出（分）")
    size = models.PositiveSmallIntegerField("家庭人口")
    source = models.CharField("数据来源", max_length=120, blank=True)
    recorded_on = models.DateField("采集日期")

    class Meta:
        ordering = ["-year"]
        constraints = [models.UniqueConstraint(fields=["household", "year"], name="income_one_per_year"),
                       models.CheckConstraint(condition=Q(size__gte=1), name="income_size_positive")]

    @property
    def total(self) -> int:
        return self.wages + self.business + self.transfers + self.property_income

    @property
    def net(self) -> int:
        return self.total - self.costs

    @property
    def per_capita(self) -> int:
        """Per-capita net income in fen, rounded half away from zero."""
        q, r = divmod(abs(self.net), self.size)
        value = q + (1 if 2 * r >= self.size else 0)
        return value if self.net >= 0 else -value


class Guarantee(models.Model):
    """One check of one of the two assurances / three guarantees / water, with evidence."""

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="guarantees")
    item = models.CharField("项目", max_length=12, choices=GuaranteeItem.choices)
    met = models.BooleanField("是否达标")
    checked_on = models.DateField("核查日期")
    checked_by = models.CharField("核查人", max_length=40)
    evidence = models.CharField("佐证", max_length=300)
    details = models.JSONField("明细", default=dict, blank=True)  # e.g. water: litres, minutes

    class Meta:
        ordering = ["item", "-checked_on"]
        indexes = [models.Index(fields=["household", "item", "-checked_on"])]


class MembershipEvent(models.Model):
    """A dated change of membership: never a silent edit (SPEC §3.2)."""

    kind = models.CharField("变动类型", max_length=16, choices=EventKind.choices)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="events")
    from_household = models.ForeignKey(Household, null=True, on_delete=models.PROTECT, related_name="+")
    to_household = models.ForeignKey(Household, null=True, on_delete=models.PROTECT, related_name="+")
    date = models.DateField("发生日期")
    note = models.CharField("说明", max_length=200, blank=True)
    recorded_by = models.ForeignKey(User, null=True, on_delete=models.PROTECT)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["date", "id"]
