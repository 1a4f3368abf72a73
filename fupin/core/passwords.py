"""Password complexity (等保2.0: complexity and periodic change)."""
from django.conf import settings
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
