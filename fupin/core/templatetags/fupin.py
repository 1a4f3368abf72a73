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
def birth_year(birth):
    """What a screen shows of a birth date: '1970年', never the day, nor the age (idcard.mask)."""
    year = idcard.birth_year(birth)
    return f"{year}年" if year else ""


@register.filter
def yuan(fen):
    """Integer fen → '1,234.56'."""
    return "" if fen is None else fen_to_yuan_str(fen, grouping=True)
