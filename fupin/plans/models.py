"""Work plans (年度计划), leading groups (领导小组) and their meetings' decisions (SPEC §12; seeds
000–004: the seeds write plans as prose — “本年内为12个班配备多媒体” — here each is an item with a
target, an owner, a due date and its evidence, tracked to done)."""
from __future__ import annotations

from django.db import models
from django.db.models import Q

from fupin.core.models import Region, User


class Plan(models.Model):
    """A yearly plan of a county, township or school (the school's region is where it stands)."""

    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", verbose_name="区划")
    school = models.ForeignKey("education.School", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                               verbose_name="学校")
    year = models.PositiveSmallIntegerField("年度")
    title = models.CharField("名称", max_length=120)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-year", "region_id", "id"]
        constraints = [models.UniqueConstraint(fields=["region", "year", "title"], name="plan_unique_title")]

    def __str__(self):
        return self.title


class GroupLevel(models.TextChoices):
    COUNTY = "county", "县级"
    TOWNSHIP = "township", "乡镇"
    SCHOOL = "school", "学校"


class LeadingGroup(models.Model):
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", verbose_name="区划")
    level = models.CharField("层级", max_length=10, choices=GroupLevel.choices)
    school = models.ForeignKey("education.School", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    name = models.CharField("名称", max_length=120)
    office = models.CharField("办公室设在", max_length=120, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["region_id", "name"]


class GroupRole(models.TextChoices):
    LEADER = "leader", "组长"
    DEPUTY = "deputy", "副组长"
    MEMBER = "member", "成员"


class GroupMember(models.Model):
    group = models.ForeignKey(LeadingGroup, on_delete=models.CASCADE, related_name="members")
    role = models.CharField("职务", max_length=10, choices=GroupRole.choices)
    name = models.CharField("姓名", max_length=40)
    post = models.CharField("单位与职务", max_length=80, blank=True)
    duties = models.CharField("分工", max_length=300, blank=True)
    start = models.DateField("起")
    end = models.DateField("止", null=True, blank=True)   # empty: still a member

    class Meta:
        ordering = ["group", "end", "role", "id"]


class Meeting(models.Model):
    """A meeting of a leading group (or a joint meeting) with its minutes; its decisions are Items."""

    group = models.ForeignKey(LeadingGroup, on_delete=models.PROTECT, related_name="meetings")
    date = models.DateField("日期")
    title = models.CharField("会议名称", max_length=120)
    minutes = models.TextField("纪要", max_length=5000, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-date", "-id"]


class ItemState(models.TextChoices):
    OPEN = "open", "推进中"     # not done yet (overdue when its due date has passed: computed, not stored)
    DONE = "done", "已完成"     # done, with its evidence


class Item(models.Model):
    """One trackable item: a plan's target or a meeting's decision (exactly one of the two)."""

    plan = models.ForeignKey(Plan, null=True, blank=True, on_delete=models.PROTECT, related_name="items")
    meeting = models.ForeignKey(Meeting, null=True, blank=True, on_delete=models.PROTECT, related_name="items")
    number = models.PositiveSmallIntegerField("序号")
    target = models.CharField("目标任务", max_length=300)
    quantity = models.PositiveIntegerField("数量", null=True, blank=True)   # e.g. 12 (classes)
    measure = models.CharField("计量单位", max_length=20, blank=True)     # e.g. 个班
    owner_unit = models.CharField("责任单位", max_length=80)
    owner_person = models.CharField("责任人", max_length=40, blank=True)
    due = models.DateField("完成时限")
    evidence_required = models.CharField("佐证材料", max_length=200, blank=True)
    state = models.CharField("状态", max_length=8, choices=ItemState.choices, default=ItemState.OPEN)
    done_on = models.DateField("完成日期", null=True, blank=True)
    done_quantity = models.PositiveIntegerField("完成数量", null=True, blank=True)
    evidence = models.CharField("完成情况与佐证", max_length=500, blank=True)
    done_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["number", "id"]
        constraints = [
            models.CheckConstraint(condition=(Q(plan__isnull=False) & Q(meeting__isnull=True))
                                   | (Q(plan__isnull=True) & Q(meeting__isnull=False)), name="item_of_plan_or_meeting"),
            models.CheckConstraint(condition=Q(state="open", done_on__isnull=True) | Q(state="done", done_on__isnull=False),
                                   name="item_done_has_date"),
        ]


class Bulletin(models.Model):
    """A work bulletin (工作简报) of a county or township for a period, composed from the period's
    plan items, meetings and village changes; a draft until published to the bulletin page."""

    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", verbose_name="区划")
    number = models.PositiveIntegerField("期号")
    title = models.CharField("标题", max_length=120)
    start = models.DateField("期间起")
    end = models.DateField("期间止")
    body = models.TextField("正文", max_length=20000)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    published_at = models.DateTimeField("发布时间", null=True, blank=True)   # empty: a draft
    published_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-start", "-number"]
        constraints = [models.UniqueConstraint(fields=["region", "number"], name="bulletin_number_unique")]
