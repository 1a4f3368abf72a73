"""Form fields shared by every room. Money typed on a screen goes through the one parser
(`fupin.policy.money.parse_yuan`), the same as the API and the Excel importers use."""
from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError


class YuanField(forms.CharField):
    """An amount in yuan as typed (“3000”, “3,000.50”) → integer fen in `cleaned_data`."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal"}))
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        from fupin.policy.money import MoneyError, parse_yuan

        text = super().to_python(value)
        if text in self.empty_values:
            return None
        try:
            return parse_yuan(text, str(self.label or ""))
        except MoneyError as exc:
            raise ValidationError(exc.problem) from None
