"""Department lists, their links to registry persons, remembered review decisions and the
warnings (findings) sent to villages (issue 14)."""
from __future__ import annotations

from django.db import models

from fupin.core.models import Region, User


class Band(models.TextChoices):
    AUTO = "auto", "自动确认"        # probability ≥ MONITORING_LINK_AUTO, or the same valid ID and name
    REVIEW = "review", "人工复核"    # between the two thresholds: waits for an officer
    REJECT = "reject", "拒绝"        # below MONITORING_LINK_REVIEW: not kept


class Decision(models.TextChoices):
    NONE = "", "未决定"
    SAME = "same", "同一人"
    DIFFERENT = "different", "不是同一人"


class Group(models.TextChoices):
    SHOULD_NOT = "should_not", "不应纳入而纳入"
    SHOULD_BE = "should_be", "应纳入未纳入"
    INCONSISTENT = "inconsistent", "信息不一致"


class WarningState(models.TextChoices):
    OPEN = "open", "待核实"              # at the village, not answered yet
    STARTED = "started", "已发起监测"    # the village started the monitoring workflow from it
    DISMISSED = "dismissed", "已排除"    # the village verified and dismissed it with a reason


class Batch(models.Model):
    """One imported department file: dated, with its source; never changed afterwards."""

    kind = models.CharField("名单类型", max_length=40)
    source = models.CharField("来源单位", max_length=100)
    as_of = models.DateField("数据日期")
    file_name = models.CharField("文件名", max_length=200)
    file_hash = models.CharField("文件SHA-256", max_length=64)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", verbose_name="比对范围")
    rows = models.PositiveIntegerField("行数")
    imported_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    imported_at = models.DateTimeField(auto_now_add=True)
    linked_at = models.DateTimeField("比对时间", null=True)

    class Meta:
        ordering = ["-imported_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["kind", "region", "file_hash"], name="batch_once_per_file")]

    @property
    def kind_label(self) -> str:
        """The list kind as its YAML names it (低保对象名单), never its key."""
        from .lists import kinds

        kind = kinds().get(self.kind)
        return kind.label if kind else self.kind


class ListRow(models.Model):
    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="list_rows")
    row = models.PositiveIntegerField("Excel行号")
    name = models.CharField("姓名", max_length=40)
    id_number = models.CharField("公民身份号码", max_length=20, blank=True)
    sex = models.CharField("性别", max_length=1, blank=True)
    birth_date = models.DateField("出生日期", null=True)
    address = models.CharField("住址", max_length=200, blank=True)
    village_code = models.CharField("村代码", max_length=12, blank=True)
    data = models.JSONField("其他列", default=dict)

    class Meta:
        ordering = ["batch", "row"]


class Link(models.Model):
    """A candidate pair (list row, registry person) above the review threshold."""

    row = models.ForeignKey(ListRow, on_delete=models.PROTECT, related_name="links")
    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="+")
    probability = models.FloatField("匹配概率")
    band = models.CharField(max_length=8, choices=Band.choices)
    method = models.CharField(max_length=8)     # "id" exact, "model" probabilistic
    decision = models.CharField(max_length=10, choices=Decision.choices, blank=True)
    decided_by = models.ForeignKey(User, null=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True)
    remembered = models.BooleanField("沿用以前的复核决定", default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["row", "person"], name="link_once")]
        indexes = [models.Index(fields=["band", "decision"])]

    @property
    def accepted(self) -> bool:
        return self.decision == Decision.SAME or (self.band == Band.AUTO and self.decision != Decision.DIFFERENT)


class ReviewMemory(models.Model):
    """An officer's decision on a pair, found again when the same person arrives in a later batch
    with the same identifying values (signature = normalised name, ID, birth date, sex)."""

    signature = models.CharField(max_length=120)
    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="+")
    decision = models.CharField(max_length=10, choices=Decision.choices)
    decided_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["signature", "person"], name="review_memory_once")]


class Warning(models.Model):
    """A finding sent to a village: what the comparison found, with its evidence and source batch."""

    rule = models.CharField("规则", max_length=40)
    group = models.CharField(max_length=14, choices=Group.choices)
    label = models.CharField("疑点", max_length=100)
    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="warnings")
    row = models.ForeignKey(ListRow, on_delete=models.PROTECT, related_name="warnings")
    person = models.ForeignKey("registry.Person", null=True, on_delete=models.PROTECT, related_name="+")
    household = models.ForeignKey("registry.Household", null=True, on_delete=models.PROTECT, related_name="+")
    village = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    evidence = models.JSONField("证据", default=list)
    created_on = models.DateField("推送日期")
    due = models.DateField("答复期限")
    state = models.CharField(max_length=10, choices=WarningState.choices, default=WarningState.OPEN)
    reason = models.CharField("排除理由", max_length=500, blank=True)
    workflow = models.ForeignKey("workflows.Instance", null=True, on_delete=models.PROTECT, related_name="+")
    decided_by = models.ForeignKey(User, null=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True)

    class Meta:
        ordering = ["due", "id"]
        indexes = [models.Index(fields=["village", "state", "due"])]
        constraints = [models.UniqueConstraint(fields=["rule", "row"], name="warning_once_per_rule_and_row")]


class DeclarationState(models.TextChoices):
    OPEN = "open", "待乡镇受理"            # lodged; the township must accept within the pack's working days
    ACCEPTED = "accepted", "已受理"        # accepted: the monitoring workflow was started (channel "self")
    DECLINED = "declined", "不予受理"      # declined with a reason (e.g. not a resident of the village)


class Declaration(models.Model):
    """A difficulty declared by a resident (public phone page) or a cadre on the resident's behalf
    (SPEC §3.5 self-declaration channel)."""

    name = models.CharField("姓名", max_length=40)
    id_number = models.CharField("公民身份号码", max_length=18)
    phone = models.CharField("联系电话", max_length=20)
    village = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", verbose_name="村")
    difficulty = models.CharField("困难情况", max_length=500)
    via = models.CharField(max_length=8, choices=[("web", "本人网上申报"), ("cadre", "干部代为登记")])
    declared_on = models.DateField("申报日期")
    accept_due = models.DateField("受理期限")
    state = models.CharField(max_length=10, choices=DeclarationState.choices, default=DeclarationState.OPEN)
    reason = models.CharField("不予受理理由", max_length=500, blank=True)
    workflow = models.ForeignKey("workflows.Instance", null=True, on_delete=models.PROTECT, related_name="+")
    decided_by = models.ForeignKey(User, null=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True)

    class Meta:
        ordering = ["accept_due", "id"]
        indexes = [models.Index(fields=["village", "state", "accept_due"])]
