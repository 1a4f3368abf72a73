"""Password complexity (等保2.0: complexity and periodic change)."""
from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.core.exceptions import ValidationError


class ComplexityValidator:
    """At least PASSWORD_MIN_LENGTH characters and three of: upper, lower, digit, symbol."""

    def validate(self, password, user=None):
        classes = sum([
            any(c.isupper() for c in password),
            any(c.islower() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        ])
        if len(password) < settings.PASSWORD_MIN_LENGTH or classes < 3:
            raise ValidationError(self.get_help_text(), code="password_too_simple")

    def get_help_text(self):
        return (f"密码至少 {settings.PASSWORD_MIN_LENGTH} 位，且须包含大写字母、小写字母、数字、"
                "符号中的至少三类")


class HistoryValidator:
    """No reuse of the current password or of the last PASSWORD_HISTORY_COUNT ones.

    Only hashes are kept (PasswordHistory); `password_changed`, which Django calls after a
    new password is saved, records the new hash and drops the ones beyond the count."""

    def _recent(self, user):
        from .models import PasswordHistory

        if user is None or user.pk is None:
            return []
        return list(PasswordHistory.objects.filter(user_id=user.pk)
                    .values_list("encoded", flat=True)[: settings.PASSWORD_HISTORY_COUNT])

    def validate(self, password, user=None):
        from django.contrib.auth.hashers import check_password

        if user is None or user.pk is None:
            return
        encoded = [e for e in dict.fromkeys([user.password, *self._recent(user)]) if e]
        if any(check_password(password, e) for e in encoded):
            raise ValidationError(self.get_help_text(), code="password_reused")

    def password_changed(self, password, user=None):
        from .models import PasswordHistory

        if user is None or user.pk is None or not user.password:
            return
        PasswordHistory.objects.create(user_id=user.pk, encoded=user.password)
        keep = PasswordHistory.objects.filter(user_id=user.pk).values_list("id", flat=True)[
            : settings.PASSWORD_HISTORY_COUNT]
        PasswordHistory.objects.filter(user_id=user.pk).exclude(id__in=list(keep)).delete()

    def get_help_text(self):
        return f"新密码不能与最近 {settings.PASSWORD_HISTORY_COUNT} 次使用过的密码相同，请换一个从未用过的密码"


class Argon2idHasher(Argon2PasswordHasher):
    """Argon2id with the parameters of OWASP's Password Storage Cheat Sheet (first option:
    19 MiB of memory, 2 passes, 1 lane), set in settings (PASSWORD_ARGON2_*). Django's default
    PBKDF2 (1,000,000 SHA-256 rounds) took 260 ms of CPU per login and about 1.2 s on a busy
    2-core server (issue 13); this takes about 22 ms of CPU and, being memory-hard, costs a
    GPU attacker more than PBKDF2 did. Stored PBKDF2 hashes still verify and are rehashed to
    Argon2id at the user's next login (Django upgrades a hash from a later entry of
    PASSWORD_HASHERS)."""

    algorithm = "argon2"   # Django's own name, so the hashes stay readable by its stock hasher

    @property
    def time_cost(self):
        return settings.PASSWORD_ARGON2_TIME_COST

    @property
    def memory_cost(self):
        return settings.PASSWORD_ARGON2_MEMORY_KIB

    @property
    def parallelism(self):
        return settings.PASSWORD_ARGON2_PARALLELISM
