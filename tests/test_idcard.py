import datetime as dt

import pytest

from fupin.core import idcard


@pytest.mark.parametrize("raw, normalized, birth, sex", [
    ("11010519491231002X", "11010519491231002X", dt.date(1949, 12, 31), "女"),
    ("440524188001010014", "440524188001010014", dt.date(1880, 1, 1), "男"),
    ("11010519491231002x", "11010519491231002X", dt.date(1949, 12, 31), "女"),          # lower-case x
    ("１１０１０５１９４９１２３１００２Ｘ", "11010519491231002X", dt.date(1949, 12, 31), "女"),  # full width
    (" 110105 19491231 002X ", "11010519491231002X", dt.date(1949, 12, 31), "女"),       # spaces
])
def test_valid_ids_are_normalised(raw, normalized, birth, sex):
    r = idcard.check(raw, today=dt.date(2026, 11, 22))
    assert (r.valid, r.id, r.birth_date, r.sex, r.error) == (True, normalized, birth, sex, None)


@pytest.mark.parametrize("raw, error", [
    ("110105194912310021", "校验码错误：最后一位应为 X，实际为 1"),
    ("110105194902300020", "出生日期 19490230 不存在"),
    ("110105203001010010", "出生日期 2030-01-01 晚于今天"),
    ("990105194912310020", "前6位地址码 990105 不是有效的省级行政区划代码"),
    ("110105491231002", "这是15位旧身份证号，请换为18位新号码".replace("换为", "换成")),
    ("11010519491231002", "身份证号应为18位，实际为17位"),
    ("11010519491231A02X", "身份证号前17位须为数字，最后一位为数字或X"),
    ("", "证件号码为空"),
    (5.10122e17, "证件号码被存成了数字（5.10122E+17），后几位已丢失；请把该列设为“文本”格式后重新录入"),
])
def test_invalid_ids_say_what_is_wrong(raw, error):
    r = idcard.check(raw, today=dt.date(2026, 11, 22))
    assert r.valid is False
    assert r.error == error


def test_mask_keeps_region_and_last_two():
    assert idcard.mask("510122199001011234") == "510122**********34"
    assert idcard.mask_bank("6217000011112222333") == "***************2333"
    assert idcard.mask("") == ""
    assert idcard.birth_year(dt.date(1970, 5, 1)) == 1970 and idcard.birth_year(None) is None


@pytest.mark.parametrize("raw, masked", [
    ("13812345678", "138****5678"),      # a mobile: network prefix and last four
    ("083412345678", "083*****5678"),    # area code and number
    ("12345678", "****5678"),            # a landline still hides four digits, not one
    ("1234567", "123****"),
    ("", ""),
])
def test_mask_phone_always_hides_four_digits(raw, masked):
    assert idcard.mask_phone(raw) == masked


def test_make_id_produces_valid_numbers():
    value = idcard.make_id("513435", dt.date(2001, 2, 3), 17)
    assert value[:17] == "51343520010203017"
    assert idcard.check(value).valid is True
