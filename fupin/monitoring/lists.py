"""List kinds as data: policies/lists/departments/<key>.yaml → the columns `read_table` uses."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import yaml

from fupin.core import idcard
from fupin.exchange import excel
from fupin.exchange.excel import CellError, Column

from . import linkage

LISTS_DIR = Path(__file__).resolve().parents[2] / "policies" / "lists" / "departments"


def _id(value):
    """A department's ID is kept even when its check digit is wrong (linkage looks at it as one
    digit away from another); refused only when it cannot be an ID at all."""
    if excel.is_blank(value):
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise CellError(idcard.check(value).error)
    s = idcard.normalize(str(value))
    if len(s) not in (15, 18) or not s[:-1].isdigit() or not (s[-1].isdigit() or s[-1] == "X"):
        raise CellError(f"“{s}”不是身份证号：应为18位（或15位旧号），前17位为数字，最后一位为数字或X；"
                        "无法确认的请留空，系统按姓名、出生日期、住址比对")
    return s


def _sex(value):
    if excel.is_blank(value):
        return ""
    s = linkage.norm_sex(value)
    if not s:
        raise CellError(f"性别“{excel._cell_text(value)}”应填“男”或“女”")
    return s


def _village(value):
    return excel.digits(12, 12, "村代码")(value)


def _yuan(value):
    d = excel.decimal(2, 100_000_000)(value)
    return None if d is None else int(d * 100)


PERSON_COLUMNS = [
    Column("name", "姓名", excel.text(40), required=True),
    Column("id_number", "公民身份号码", _id, aliases=("身份证号", "身份证号码", "证件号码")),
    Column("sex", "性别", _sex),
    Column("birth_date", "出生日期", excel.date),
    Column("address", "住址", excel.text(200), aliases=("家庭住址", "地址")),
    Column("village_code", "村代码", _village, aliases=("行政区划代码",)),
]
TYPES = {"text": excel.text(200), "date": excel.date, "yuan": _yuan, "integer": excel.integer(0, 10 ** 9),
         "bool": excel.boolean}


@dataclass(frozen=True)
class ListKind:
    key: str
    label: str
    department: str
    meaning: str
    columns: tuple[Column, ...]
    extra_keys: tuple[str, ...]
    exclusion: str
    rules: tuple[str, ...]


@functools.lru_cache(maxsize=1)
def kinds() -> dict[str, ListKind]:
    out = {}
    for path in sorted(LISTS_DIR.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        extra = [Column(c["key"], c["header"], TYPES[c.get("type", "text")], required=bool(c.get("required")),
                        aliases=tuple(c.get("aliases", ())), note=c.get("meaning", ""))
                 for c in doc.get("columns", [])]
        out[doc["key"]] = ListKind(doc["key"], doc["label"], doc.get("department", ""), doc.get("meaning", ""),
                                   tuple(PERSON_COLUMNS + extra), tuple(c.key for c in extra),
                                   doc.get("exclusion", ""), tuple(doc.get("rules", ())))
    return out
