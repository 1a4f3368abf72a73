"""The one money parser (fupin.policy.money.parse_yuan): yuan as typed or sent → integer fen."""
from decimal import Decimal

import pytest

from fupin.policy.errors import PolicyError
from fupin.policy.money import MoneyError, max_fen, parse_yuan, yuan


@pytest.mark.parametrize("value, fen", [
    ("12.30", 1230), ("1,234.5", 123450), (" 7 ", 700), (100, 10000), (0, 0), ("0.01", 1),
    (Decimal("1.230"), 123), ("1000000000.00", 100_000_000_000),
    ("１２００", 120000), ("１，２３４．５６", 123456),   # as a Chinese input method types them
])
def test_accepted(value, fen):
    assert parse_yuan(value, "金额") == fen


SHAPE = "应为不小于0、最多两位小数的金额（元），如 \"1234.56\""


@pytest.mark.parametrize("value, message", [
    ("-1", f"总费用：“-1”{SHAPE}"),
    ("1.234", f"总费用：“1.234”{SHAPE}"),
    ("Infinity", f"总费用：“Infinity”{SHAPE}"),
    ("sNaN", f"总费用：“sNaN”{SHAPE}"),
    ("1e3", f"总费用：“1e3”{SHAPE}"),
    ("12,34", f"总费用：“12,34”{SHAPE}"),
    (Decimal("sNaN"), f"总费用：“sNaN”{SHAPE}"),
    (Decimal("Infinity"), f"总费用：“Infinity”{SHAPE}"),
    (100000.5, "总费用：应写成字符串或整数形式的元，如 \"1234.56\"，不能用浮点数"),
    (None, f"总费用：缺少金额或不是金额（空值 null），{SHAPE}"),
    (True, f"总费用：缺少金额或不是金额（true/false），{SHAPE}"),
    ([], "总费用：应为金额（元），不能是列表；如 \"1234.56\""),
    ({}, "总费用：应为金额（元），不能是对象；如 \"1234.56\""),
    ("1000000000.01", "总费用：金额 1000000000.01 元超过上限 1,000,000,000.00 元，请核对"),
    (10 ** 40, "总费用：金额 （超过39位数字） 元超过上限 1,000,000,000.00 元，请核对"),
    (Decimal("1e40"), "总费用：金额 1E+40 元超过上限 1,000,000,000.00 元，请核对"),
])
def test_refused_with_a_chinese_message(value, message):
    with pytest.raises(MoneyError) as exc:
        parse_yuan(value, "总费用")
    assert exc.value.message == message
    assert isinstance(exc.value, PolicyError) and isinstance(exc.value, ValueError)
    assert exc.value.field == "总费用"


def test_signed_and_explicit_maximum():
    assert parse_yuan("-3.50", "调整", signed=True) == -350
    with pytest.raises(MoneyError):
        parse_yuan("2.00", "x", maximum=100)
    assert max_fen() == 100_000_000_000
    assert yuan(parse_yuan("1,234.56", "x")) == "1234.56"
