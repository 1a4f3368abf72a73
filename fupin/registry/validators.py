"""The one validation of the registry's coded fields, used by the web forms and the API (model
field validators, run by `full_clean` in services) and by the Excel importer (its cell parsers
call the same functions). A value one entry point accepts is a value every other accepts, so a
county's own export can always be imported again."""
from __future__ import annotations

from django.core.exceptions import ValidationError

PHONE_DIGITS = (7, 12)    # a landline without area code (7) to a mobile or landline with area code (12)
BANK_DIGITS = (8, 30)     # bank card and passbook numbers of rural banks
NUMBER_MAX = 24


def _digits(value: str, what: str, lo: int, hi: int) -> str:
    s = "".join(str(value).split())
    if s and (not s.isdigit() or not lo <= len(s) <= hi):
        raise ValidationError(f"{what}应为{lo}–{hi}位数字，实际为“{s}”")
    return s


def phone(value: str) -> str:
    return _digits(value, "联系电话", *PHONE_DIGITS)


def bank_account(value: str) -> str:
    return _digits(value, "银行账号", *BANK_DIGITS)


def household_number(value: str) -> str:
    s = str(value).strip()
    if not s or len(s) > NUMBER_MAX or any(ch.isspace() for ch in s):
        raise ValidationError(f"户编号应为不超过{NUMBER_MAX}位、不含空格的编号，实际为“{s}”")
    return s
