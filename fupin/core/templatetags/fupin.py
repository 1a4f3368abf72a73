from django import template

from fupin.core import idcard
from fupin.core.money import fen_to_yuan_str

register = template.Library()


@register.filter
def mask_id(value):
    return idcard.mask(value)


@register.filter
def mask_bank(value):
    return idcard.mask_bank(value)


@register.filter
def mask_phone(value):
    return idcard.mask_phone(value)


@register.filter
def age(birth):
    """What a screen shows instead of a birth date: whole years of age today (Beijing time)."""
    from django.utils import timezone

    return "" if birth is None else idcard.age_on(birth, timezone.localdate())


@register.filter
def yuan(fen):
    """Integer fen → '1,234.56'."""
    return "" if fen is None else fen_to_yuan_str(fen, grouping=True)
