"""Regions, users, audit events and API tokens."""
from __future__ import annotations

import hashlib

from django.contrib.auth.models import AbstractUser
from django.db import models

from .roles import Role


class Level(models.IntegerChoices):
    PROVINCE = 1, "省"
    CITY = 2, "市（州）"
    COUNTY = 3, "县（区）"
    TOWNSHIP = 4, "乡（镇、街道）"
    VILLAGE = 5, "村（社区）"


# How many leading digits of the 12-digit statistical code identify a region of each level.
PREFIX_LEN = {Level.PROVINCE: 2, Level.CITY: 4, Level.COUNTY: 6, Level.TOWNSHIP: 9, Level.VILLAGE: 12}


class Region(models.Model):
    """A statistical division with its 12-digit code (SPEC §3.1).

    The code is the primary key so that households can be scoped with an indexed range
    query on their village code. Renumbering is recorded in RegionCodeChange.
    """

    code = models.CharField("统计用区划代码", max_length=12, primary_key=True)
    name = models.CharField("名称", max_length=60)
    level = models.PositiveSmallIntegerField("级别", choices=Level.choices)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="children", verbose_name="上级")
    valid_from = models.DateField("启用日期", null=True, blank=True)
    valid_to = models.DateField("停用日期", null=True, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = "行政区划"

    def __str__(self) -> str:
        return self.name

    @property
    def prefix(self) -> str:
        return self.code[: PREFIX_LEN[self.level]]

    def code_range(self) -> tuple[str, str]:
        """Lowest and highest 12-digit code inside this region (for indexed range filters)."""
        return self.prefix.ljust(12, "0"), self.prefix.ljust(12, "9")


class RegionCodeChange(models.Model):
    """History of renumbered regions (codes change yearly)."""

    old_code = models.CharField(max_length=12, db_index=True)
    new_code = models.CharField(max_length=12, db_index=True)
    changed_on = models.DateField()
    note = models.CharField(max_length=200, blank=True)


class User(AbstractUser):
    role = models.CharField("角色", max_length=32, choices=Role.choices)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, null=True, verbose_name="所属区划")
    is_demo = models.BooleanField("演示账户", default=False)
    failed_logins = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    password_changed_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField("账户有效期至", null=True, blank=True)  # empty: no end date
    # Raised when an administrator resets the second factor: every session's earlier
    # verification (core.otp.is_verified compares it) stops counting at once.
    otp_epoch = models.PositiveIntegerField(default=0)

    def account_problem(self, now=None) -> str | None:
        """Why this account may not act right now (disabled, locked, expired), or None.

        Read by the API token check on every request, so a lock or expiry stops tokens at once."""
        from django.conf import settings
        from django.utils import timezone

        now = now or timezone.now()
        if not self.is_active:
            return "账户已停用"
        if self.locked_until and self.locked_until > now:
            return "账户已锁定"
        if self.expires_at and self.expires_at <= now:
            return "账户已过期"
        changed = self.password_changed_at
        if changed is None or (now - changed).days >= settings.PASSWORD_MAX_AGE_DAYS:
            return "密码已过期"
        if self.is_demo and not settings.DEMO:
            return "演示账户在正式部署中不可用"
        return None


class PasswordHistory(models.Model):
    """The hashes of a user's recent passwords (no reuse of the last PASSWORD_HISTORY_COUNT)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="password_history")
    encoded = models.CharField(max_length=256)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]


class AuditAction(models.TextChoices):
    LOGIN = "login", "登录"
    LOGIN_FAILED = "login_failed", "登录失败"
    LOGOUT = "logout", "退出"
    CREATE = "create", "新增"
    UPDATE = "update", "修改"
    MEMBERSHIP = "membership", "成员变动"
    IMPORT = "import", "导入"
    EXPORT = "export", "导出"
    REVEAL = "reveal", "查看完整敏感信息"
    DENIED = "denied", "越权被拒"
    TOKEN = "token", "接口令牌"
    SEARCH = "search", "按证件号查找"


class AuditResult(models.TextChoices):
    OK = "ok", "成功"
    FAILED = "failed", "失败"
    DENIED = "denied", "拒绝"


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("审计记录不可修改")

    def delete(self):
        raise PermissionError("审计记录不可删除")


class AuditEvent(models.Model):
    """Append-only audit record: date and time, type, subject, object, result (等保 8.1.4).

    Also the timeline of a household: every change to it carries its household_id.
    """

    at = models.DateTimeField("时间", auto_now_add=True, db_index=True)
    actor = models.ForeignKey(User, null=True, on_delete=models.PROTECT, verbose_name="操作人")
    actor_name = models.CharField("操作人账号", max_length=150)
    action = models.CharField("类型", max_length=20, choices=AuditAction.choices)
    object_type = models.CharField("对象类型", max_length=40, blank=True)
    object_id = models.CharField("对象", max_length=64, blank=True)
    household_id = models.BigIntegerField(null=True, db_index=True)
    result = models.CharField("结果", max_length=10, choices=AuditResult.choices, default=AuditResult.OK)
    summary = models.CharField("摘要", max_length=300, blank=True)
    detail = models.JSONField("详情", default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "审计记录"
        # a user's recent rows of one kind (searches by ID digits that found nobody: core.access)
        indexes = [models.Index(fields=["actor", "object_type", "at"], name="audit_actor_kind_at")]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("审计记录不可修改")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("审计记录不可删除")


class ApiToken(models.Model):
    """A bearer token for the REST API. Only its SHA-256 is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=80)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked = models.BooleanField(default=False)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]

    @staticmethod
    def hash(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()
