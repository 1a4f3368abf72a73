"""The calculators behind `fupin calc education|settlement` and `POST /api/v1/calc/…`: a JSON
document in, a JSON-ready answer out — or PolicyError with a Chinese message saying what is
wrong and what to do. Nothing else escapes: every hostile document (an array where an object
belongs, null, "Infinity", 1e40, unknown fields, a region the pack does not cover, a spring
semester starting in September …) is refused in words (tests/test_calculators.py). No database.
"""
from __future__ import annotations

from .engine import covers, run_case, validate_case
from .errors import PolicyError
from .money import yuan
from .packs import Chain, PackSet, shipped_packs

MODELS = ("education", "settlement")


def _kind(value) -> str:
    if value is None:
        return "null"
    return {list: "列表", dict: "对象", str: "文字", bool: "true/false", int: "数字", float: "数字"}.get(type(value), "其他")


def _chain_for(packs: PackSet | Chain, code, where: str = "") -> Chain:
    if not isinstance(code, str):
        raise PolicyError(f"{where}区划代码 region 应为文字（如 \"513435100200\"），实际为{_kind(code)}")
    if isinstance(packs, Chain):
        if not covers(packs, code):
            head = packs.head
            raise PolicyError(f"{where}区划 {code} 不在政策包 {head.name}（{head.title}）的适用范围内（该包适用于区划 "
                              f"{head.region or '全国'}）；请改用该区划适用的政策包，或不指定政策包、按区划自动选择")
        return packs
    try:
        return packs.for_region(code)
    except PolicyError as exc:
        raise PolicyError(f"{where}{exc.message}") from None


def education(packs: PackSet | Chain, doc):
    """One student (an object) or a list of students → each one's items and total."""
    from .rules.education import MODEL, check_case

    if isinstance(doc, list) and not doc:
        raise PolicyError("学生名单为空：请提供一个学生（JSON 对象）或学生列表")
    if not isinstance(doc, (list, dict)):
        raise PolicyError(f"应为一个学生（JSON 对象）或学生列表，实际为{_kind(doc)}")
    cases = doc if isinstance(doc, list) else [doc]
    out = []
    for i, case in enumerate(cases, start=1):
        row = i if isinstance(doc, list) else None
        where = f"第{row}条：" if row is not None else ""
        values = validate_case(MODEL, case, row)
        chain = _chain_for(packs, values["region"], where)
        check_case(chain, values, where)
        results = run_case(MODEL, case, chain, row=row)
        total = sum(r.amount for r in results)
        out.append({"id": case.get("id"), "total": yuan(total), "items": [
            {"rule": r.rule, "label": r.label, "amount": r.explanation["amount"], "explanation": r.explanation}
            for r in results]})
    return out if isinstance(doc, list) else out[0]


def settlement(packs: PackSet | Chain, claim):
    """One claim (docs/settlement.md) → every payer's amount, the explanation, the accumulators."""
    from .rules import health

    health.discharge_date(claim)   # an object with a valid date, else the message for that
    chain = _chain_for(packs, claim.get("region"))
    result = health.settle(chain, claim)
    return {k: v for k, v in result.items() if not k.startswith("_")}


def calculate(model: str, doc, packs: PackSet | Chain | None = None):
    """`model` on `doc` with a pack chain (as `--pack`), or by each case's region (None)."""
    if model not in MODELS:
        raise PolicyError(f"没有名为 {model} 的计算；可用：{', '.join(MODELS)}")
    packs = shipped_packs() if packs is None else packs
    return {"education": education, "settlement": settlement}[model](packs, doc)


def shipped_chain(name: str) -> Chain:
    """A shipped pack by name (never a file: the API must not read paths it is sent)."""
    if not isinstance(name, str) or not name:
        raise PolicyError("政策包名称不能为空")
    return shipped_packs().chain(name)


def parse_json(text, where: str = "输入") -> object:
    """JSON text → a document, or PolicyError in Chinese (bad syntax, NaN/Infinity literals,
    numbers too long, nesting too deep)."""
    import json

    def no_constant(name):
        raise PolicyError(f"{where}中不能使用 {name}：金额请写成字符串形式的元，如 \"1234.56\"")

    if isinstance(text, (bytes, bytearray)):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise PolicyError(f"{where}不是 UTF-8 编码的文字") from None
    try:
        return json.loads(text, parse_constant=no_constant)
    except json.JSONDecodeError as exc:
        raise PolicyError(f"{where}不是有效的 JSON：第{exc.lineno}行第{exc.colno}列 {exc.msg}") from None
    except RecursionError:
        raise PolicyError(f"{where}嵌套层数过多，不是有效的结算单或学生名单") from None
    except ValueError:   # e.g. an integer of more than 4300 digits
        raise PolicyError(f"{where}中有过长的数字，无法作为金额或数量") from None
