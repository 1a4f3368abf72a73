"""The calculators refuse what they cannot compute (issue 12 §4): `fupin calc education|settlement`
and `POST /api/v1/calc/…`, tried with hostile input, give a computed answer or a clear Chinese
error (exit 2 / HTTP 400), never a traceback or a 500."""
from __future__ import annotations

import copy
import io
import json
import re

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from fupin.cli.main import main
from fupin.core import services as core_services

EXAMPLE_1 = {"region": "990101000000", "discharge_date": "2024-06-01", "visit_type": "inpatient", "level": "county",
             "in_county": True, "referred": False, "categories": ["dibao", "registered_poor"],
             "total": "100000.00", "in_policy": "90000.00", "waivable": "200.00",
             "ytd": {"basic": "0", "ci_base": "0", "ci": "0", "assistance": "0", "topup": {"wsfp": "0", "yyax": "0"}},
             "fund_balances": {"wsfp": "1000000.00", "yyax": "1000000.00"}}
STUDENT = {"region": "513435100200", "date": "2024-09-01", "stage": "junior", "semester": "autumn",
           "boarding": True, "registered_poor": True, "dibao": False, "tekun": False, "new_entrant": False, "fee": 0}
PACK = {"settlement": "shili-2024", "education": "sc-513435"}
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def calc(model, text, pack=None, capsys=None, monkeypatch=None):
    monkeypatch.setattr("sys.stdin", io.StringIO(text))
    code = main(["calc", model, "--pack", pack or PACK[model]])
    return code, json.loads(capsys.readouterr().out)


SHAPE = "应为不小于0、最多两位小数的金额（元），如 \"1234.56\""


@pytest.mark.parametrize("model, text, message", [
    ("settlement", "[]", "结算单应为一个 JSON 对象（{\"region\": …, \"total\": …}），实际为列表"),
    ("settlement", "null", "结算单应为一个 JSON 对象（{\"region\": …, \"total\": …}），实际为null"),
    ("settlement", json.dumps({**EXAMPLE_1, "total": "Infinity"}), f"总费用 total：“Infinity”{SHAPE}"),
    ("settlement", json.dumps({**EXAMPLE_1, "total": "sNaN"}), f"总费用 total：“sNaN”{SHAPE}"),
    ("settlement", json.dumps(EXAMPLE_1).replace('"100000.00"', "Infinity"),
     "标准输入中不能使用 Infinity：金额请写成字符串形式的元，如 \"1234.56\""),
    ("settlement", json.dumps(EXAMPLE_1).replace('"100000.00"', "1e40"),
     "总费用 total：应写成字符串或整数形式的元，如 \"1234.56\"，不能用浮点数"),
    ("settlement", json.dumps(EXAMPLE_1).replace('"100000.00"', "1" + "0" * 40),
     "总费用 total：金额 （超过39位数字） 元超过上限 1,000,000,000.00 元，请核对"),
    ("settlement", json.dumps({**EXAMPLE_1, "total": "10000000000000000000000000000000000000000"}),
     "总费用 total：金额 1000000000000000000000000000000000000… 元超过上限 1,000,000,000.00 元，请核对"),
    ("settlement", json.dumps({**EXAMPLE_1, "refered": True}),
     "结算单有未知字段 refered；可用字段：region, discharge_date, visit_type, level, in_county, referred, categories, "
     "total, in_policy, waivable, ytd, fund_balances, id, name, number。请检查拼写"),
    ("settlement", json.dumps({**EXAMPLE_1, "discharge_date": 20240601}),
     "出院日期 discharge_date 应写成 \"YYYY-MM-DD\" 形式的文字，实际为数字 20240601"),
    ("settlement", json.dumps({**EXAMPLE_1, "region": "420100000000"}),
     "区划 420100000000 不在政策包 shili-2024（示例省 2024（一站式结算示例包））的适用范围内（该包适用于区划 99）；"
     "请改用该区划适用的政策包，或不指定政策包、按区划自动选择"),
    ("settlement", "[" * 100000, "标准输入嵌套层数过多，不是有效的结算单或学生名单"),
    ("education", json.dumps({**STUDENT, "semester": "spring"}),
     "学期开始日期 2024-09-01 不在春季学期（semester: spring）内：春季学期开学月份为 1、2、3、4、5、6、7 月；请核对学期或日期"),
    ("education", json.dumps({**STUDENT, "region": "420100000000"}),
     "区划 420100000000 不在政策包 sc-513435（四川某县（据《扶贫工作计划》（乡镇）；区划代码为示例））的适用范围内（该包适用于区划 513435）；"
     "请改用该区划适用的政策包，或不指定政策包、按区划自动选择"),
    ("education", json.dumps({**STUDENT, "fee": 10 ** 40}),
     "输入“本学期应缴保教费或学费（分）”（fee）超过金额上限 1,000,000,000.00 元，实际为 （超过39位数字） 分；请核对"),
    ("education", "[]", "学生名单为空：请提供一个学生（JSON 对象）或学生列表"),
    ("education", "null", "应为一个学生（JSON 对象）或学生列表，实际为null"),
    ("education", "[null]", "第1条：应为一个对象（JSON 对象）"),
    ("education", json.dumps({**STUDENT, "colour": "red"}), "有未知的输入字段 colour"),
])
def test_hostile_input_gets_a_chinese_error_and_exit_2(model, text, message, capsys, monkeypatch):
    code, out = calc(model, text, capsys=capsys, monkeypatch=monkeypatch)
    assert (code, out) == (2, {"error": message})


@pytest.mark.parametrize("value, message", [
    ("1.2", "政策包 bad-pack 参数 health.assistance.ratio.dibao 第1个值：比例 1.2 应为0到1之间、最多六位小数（如 0.75 表示 75%）"),
    (".inf", "政策包 bad-pack 参数 health.assistance.ratio.dibao 第1个值：比例 inf 不是有限的数（不能写 .inf、.nan）"),
    ("-0.1", "政策包 bad-pack 参数 health.assistance.ratio.dibao 第1个值：比例 -0.1 应为0到1之间、最多六位小数（如 0.75 表示 75%）"),
])
def test_a_bad_pack_is_refused_when_loaded_not_when_a_claim_runs(value, message, tmp_path, capsys, monkeypatch):
    pack = tmp_path / "bad.yaml"
    pack.write_text(f"""name: bad-pack
title: 坏包
region: "99"
extends: shili-2024
parameters:
  health.assistance.ratio.dibao:
    unit: ratio
    values: [{{from: 2024-01-01, value: {value}, source: 测试}}]
""", encoding="utf-8")
    code, out = calc("settlement", json.dumps(EXAMPLE_1), str(pack), capsys, monkeypatch)
    assert (code, out) == (2, {"error": message})


@pytest.mark.parametrize("body, message", [
    ("unit: yuan\n    values: [{from: 2024-01-01, value: .inf, source: 测试}]",
     "政策包 bad-pack 参数 health.ci.threshold 第1个值：金额 inf 不是有限的数（不能写 .inf、.nan）"),
    ("unit: yuan\n    values: [{from: 2024-01-01, value: 2000000000, source: 测试}]",
     "政策包 bad-pack 参数 health.ci.threshold 第1个值：金额 2000000000 元超过上限 1,000,000,000.00 元（policies/limits.yaml "
     "money.max_yuan），请核对"),
    ("unit: yuan\n    max: 100000\n    values: [{from: 2024-01-01, value: 100000.01, source: 测试}]",
     "政策包 bad-pack 参数 health.ci.threshold 第1个值：金额 100000.01 元超过上限 100,000.00 元（该参数的 max），请核对"),
    ("unit: yuan\n    values: [{from: 2024-02-30, value: 1, source: 测试}]",
     "政策包 bad.yaml 中有不存在的日期（如 2024-02-30）；日期应写作 YYYY-MM-DD 且确实存在"),
    ("unit: yuan\n    values: [{from: '2024-02-30', value: 1, source: 测试}]",
     "政策包 bad-pack 参数 health.ci.threshold 第1个值：from（生效日期） '2024-02-30' 不是有效日期，应写作 YYYY-MM-DD"),
    ("unit: yuan\n    until: 2023-01-01\n    values: [{from: 2024-01-01, value: 1, source: 测试}]",
     "政策包 bad-pack 参数 health.ci.threshold：until 2023-01-01 应晚于最后一个值的生效日期 2024-01-01"),
])
def test_pack_values_are_validated_completely(body, message, tmp_path, capsys, monkeypatch):
    pack = tmp_path / "bad.yaml"
    pack.write_text(f"name: bad-pack\ntitle: 坏包\nregion: \"99\"\nextends: shili-2024\nparameters:\n"
                    f"  health.ci.threshold:\n    {body}\n", encoding="utf-8")
    code, out = calc("settlement", json.dumps(EXAMPLE_1), str(pack), capsys, monkeypatch)
    assert (code, out) == (2, {"error": message})


def test_the_worked_example_still_comes_out_to_the_fen(capsys, monkeypatch):
    code, out = calc("settlement", json.dumps(EXAMPLE_1), capsys=capsys, monkeypatch=monkeypatch)
    assert code == 0
    assert [(p["label"], p["amount"]) for p in out["payers"]] == [
        ("减免", "200.00"), ("基本医保", "67125.00"), ("大病保险", "11488.75"), ("医疗救助", "7830.38"),
        ("医院承担", "2016.00"), ("卫生扶贫救助基金", "1359.87"), ("医药爱心扶贫基金", "0.00"),
        ("兜底资金不足（未支付部分，已计入个人）", "0.00"), ("个人自付", "9980.00")]
    assert not any(k.startswith("_") for k in out)


# ---- random documents -------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10 ** 45, 10 ** 45) | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12) | st.sampled_from(["Infinity", "NaN", "sNaN", "-0", "1e40", "0.001", "2024-02-30", "",
                                            "2024-06-01", "990101000000", "inpatient", "autumn"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12)


def _paths(doc, prefix=()):
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, prefix + (k,))


@st.composite
def mutated(draw, valid):
    """A valid document with one to three changes: a value replaced by random JSON, a field
    deleted, or an unknown field added."""
    doc = copy.deepcopy(valid)
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(doc) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = doc
        for k in path[:-1]:
            parent = parent[k]
        action = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
        if action == "replace":
            parent[path[-1]] = draw(json_values)
        elif action == "delete":
            del parent[path[-1]]
        else:
            parent[draw(st.text(min_size=1, max_size=6))] = draw(json_values)
    return doc


def documents(model):
    valid = EXAMPLE_1 if model == "settlement" else STUDENT
    return st.one_of(json_values, mutated(valid), st.lists(mutated(valid), max_size=3) if model == "education"
                     else mutated(valid))


def _json(doc) -> str:
    return json.dumps(doc, ensure_ascii=False)   # NaN/Infinity floats are written as JSON literals


def _assert_answer_or_chinese_error(code_or_status, body):
    if code_or_status in (0, 200):
        assert isinstance(body, (dict, list)) and "error" not in body
        return
    assert code_or_status in (2, 400), (code_or_status, body)
    message = body.get("error") or body.get("detail")
    assert isinstance(message, str) and CHINESE.search(message), body
    assert "Traceback" not in message


@pytest.mark.parametrize("model", ["settlement", "education"])
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_random_json_to_the_cli_gives_an_answer_or_a_chinese_error(model, data, capsys, monkeypatch):
    doc = data.draw(documents(model))
    code, out = calc(model, _json(doc), capsys=capsys, monkeypatch=monkeypatch)
    _assert_answer_or_chinese_error(code, out)


@pytest.fixture
def api_post(client, world):
    user = next(iter(world.users.values()))
    token = core_services.token_create(actor=user, user=user, name="calc")

    def post(path, text):
        r = client.post(f"/api/v1{path}", data=text, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
        return r.status_code, r.json()
    return post


def test_api_calculates_like_the_cli(api_post):
    status, body = api_post("/calc/settlement?pack=shili-2024", json.dumps(EXAMPLE_1))
    assert status == 200 and body["patient"] == "9980.00"
    status, body = api_post("/calc/settlement", json.dumps(EXAMPLE_1))   # the region chooses the pack
    assert status == 200 and body["pack"] == "shili-2024/cn-national"
    status, body = api_post("/calc/education?pack=sc-513435", json.dumps([STUDENT]))
    assert status == 200 and body[0]["total"] == "1125.00"
    assert api_post("/calc/settlement?pack=shili-2024", "[]") == (
        400, {"detail": "结算单应为一个 JSON 对象（{\"region\": …, \"total\": …}），实际为列表"})
    assert api_post("/calc/settlement?pack=/etc/passwd", json.dumps(EXAMPLE_1))[0] == 400   # names only, never files
    assert api_post("/calc/payroll", "{}") == (400, {"detail": "没有名为 payroll 的计算；可用：education, settlement"})


@pytest.mark.parametrize("model", ["settlement", "education"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_random_json_to_the_api_gives_an_answer_or_a_chinese_error(model, data, api_post):
    doc = data.draw(documents(model))
    pack = data.draw(st.sampled_from(["", f"?pack={PACK[model]}"]))
    status, body = api_post(f"/calc/{model}{pack}", _json(doc))
    _assert_answer_or_chinese_error(status, body)
