"""Counterpart support (SPEC §9): every rule on crafted rotations, boundary values included."""
import datetime as dt
import io
import json

import pytest

from fupin.cli.main import main
from fupin.policy.errors import PolicyError
from fupin.policy.packs import PackSet
from fupin.policy.rules import support

CHAIN = PackSet.shipped().chain("cn-national")
START, END = dt.date(2025, 1, 6), dt.date(2025, 4, 4)


def days(first, step, n):
    return [(first + dt.timedelta(days=step * i)).isoformat() for i in range(n)]


def record(**over):
    base = {"start": START.isoformat(), "end": END.isoformat(),
            "teaching_sessions": days(dt.date(2025, 1, 10), 14, 5), "ward_rounds": days(dt.date(2025, 1, 8), 7, 10),
            "days_present": days(START, 1, 50), "working_days": 60, "unauthorised_return_days": 0}
    return {**base, **over}


def items(result):
    return {i["item"]: (i["passed"], i["reason"]) for i in result["items"]}


def test_all_passed_pays_the_full_allowance():
    r = support.assess(CHAIN, record())
    assert r["failed_items"] == 0
    assert (r["allowance"], r["deduction"], r["allowance_payable"]) == ("1320.00", "0.00", "1320.00")  # 22 × 20 × 3
    assert (r["certificate_granted"], r["repeat_dispatch"], r["department_reward"]) == (True, False, "1000.00")
    assert r["parameters"]["support.allowance.rate_per_day"] == {
        "value": "20.00", "from": "2016-01-01", "source": "《扶贫工作计划》（乡镇）、《扶贫工作计划范文汇编》（城乡医院对口支援方案）；城乡医院对口支援工作要求：每天20元"}


@pytest.mark.parametrize("gap, passed", [(7, True), (6, False)])
def test_teaching_sessions_exactly_a_week_apart_pass_six_days_fail(gap, passed):
    sessions = ["2025-01-10", "2025-01-24", (dt.date(2025, 1, 24) + dt.timedelta(days=gap)).isoformat(), "2025-02-20"]
    ok, reason = items(support.assess(CHAIN, record(teaching_sessions=sessions)))["teaching"]
    assert ok is passed
    if not passed:
        assert reason == "第2次（2025-01-24）与第3次（2025-01-30）授课相隔 6 天，不足 7 天"


@pytest.mark.parametrize("n, passed", [(4, True), (3, False)])
def test_teaching_needs_four_sessions(n, passed):
    ok, reason = items(support.assess(CHAIN, record(teaching_sessions=days(dt.date(2025, 1, 10), 14, n))))["teaching"]
    assert ok is passed
    assert reason == ("授课 4 次，相邻间隔均不少于 7 天" if passed else "授课 3 次，少于 4 次")


@pytest.mark.parametrize("n, passed", [(8, True), (7, False)])
def test_eight_rounds_pass_seven_fail(n, passed):
    ok, reason = items(support.assess(CHAIN, record(ward_rounds=days(dt.date(2025, 1, 8), 7, n))))["rounds"]
    assert (ok, reason) == (passed, f"查房 {n} 次，{'达到' if passed else '少于'} 8 次")


@pytest.mark.parametrize("present, passed, reason", [
    (48, True, "出勤 48/60 天（80.00%），不低于 80%"),
    (47, False, "出勤 47/60 天（78.33%），低于 80%")])
def test_attendance_exactly_eighty_percent_passes(present, passed, reason):
    assert items(support.assess(CHAIN, record(days_present=days(START, 1, present))))["attendance"] == (passed, reason)


def test_attendance_just_under_eighty_percent_with_a_list_of_working_days():
    working = days(START, 1, 1000 // 10)[:100]   # 100 working days listed
    r = support.assess(CHAIN, record(working_days=[d for d in working if d <= END.isoformat()][:80] + [],
                                     days_present=days(START, 1, 63)))
    ok, reason = items(r)["attendance"]
    assert (ok, reason) == (False, "出勤 63/80 天（78.75%），低于 80%")


@pytest.mark.parametrize("failed_items, deduction, certificate, repeat, dept_fine", [
    (1, "440.00", True, False, "0.00"),    # one month's allowance: 22 × 20
    (2, "880.00", False, False, "0.00"),   # two months, no certificate
    (3, "880.00", False, True, "500.00"),  # two months, no certificate, sent again, department fined 500
])
def test_consequences_by_number_of_failed_items(failed_items, deduction, certificate, repeat, dept_fine):
    bad = {"teaching_sessions": ["2025-01-10"], "ward_rounds": ["2025-01-08"], "days_present": days(START, 1, 10)}
    keys = ["teaching_sessions", "ward_rounds", "days_present"][:failed_items]
    r = support.assess(CHAIN, record(**{k: bad[k] for k in keys}))
    assert r["failed_items"] == failed_items
    assert (r["deduction"], r["certificate_granted"], r["repeat_dispatch"], r["fines"]["department_assessment_fine"]) == (
        deduction, certificate, repeat, dept_fine)
    assert r["allowance_payable"] == f"{(132000 - int(deduction.replace('.', ''))) // 100}.00"


def test_unauthorised_return_fines_person_and_department_per_working_day():
    r = support.assess(CHAIN, record(unauthorised_return_days=3, department_refused=True))
    assert r["fines"] == {"person": "120.00", "department": "2120.00", "department_assessment_fine": "0.00",
                          "unauthorised_days": 3, "refusal": "2000.00"}


@pytest.mark.parametrize("change, message", [
    ({"start": "2025-13-01"}, "start、end 应为 YYYY-MM-DD 日期"),
    ({"end": "2024-12-31"}, "结束日期 2024-12-31 早于开始日期 2025-01-06"),
    ({"ward_rounds": ["2025-05-01"]}, "ward_rounds 中的 2025-05-01 不在派驻期间 2025-01-06～2025-04-04 内"),
    ({"working_days": 0}, "working_days 应为正整数或日期列表，实际为 0"),
    ({"days_present": days(START, 1, 61)}, "出勤 61 天多于工作日 60 天"),
    ({"unauthorised_return_days": None}, "缺少输入 unauthorised_return_days（擅自返回的工作日数，没有请填 0）"),
])
def test_bad_records_are_refused(change, message):
    with pytest.raises(PolicyError) as exc:
        support.assess(CHAIN, record(**change))
    assert exc.value.message == message


def test_cli_support_assessment(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(record(ward_rounds=days(dt.date(2025, 1, 8), 7, 7)))))
    assert main(["calc", "support-assessment", "--pack", "cn-national"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["failed_items"], out["allowance_payable"], out["certificate_granted"]) == (1, "880.00", True)


# ---- the plan ---------------------------------------------------------------------------

DEPTS = ["内科", "外科", "妇产科", "儿科", "急诊科"]


def test_handover_day_when_the_first_monday_is_a_holiday():
    # 2024-10-07 is a Monday inside the National Day holiday (国办发明电〔2023〕7号)
    day, note = support.handover_day(CHAIN, 2024, 4)
    assert (day, note) == (dt.date(2024, 10, 8), "第一个星期一 2024-10-07 为国庆节，顺延至节后第一个工作日 2024-10-08")
    assert support.handover_day(CHAIN, 2024, 2)[0] == dt.date(2024, 4, 1)
    plan = support.plan(CHAIN, DEPTS, 2024, 1, 4)
    assert [b.handover for b in plan] == [dt.date(2024, 1, 2), dt.date(2024, 4, 1), dt.date(2024, 7, 1), dt.date(2024, 10, 8)]
    # 2024-01-01 (New Year) is also a Monday holiday


def test_fixed_order_and_a_full_cycle():
    plan = support.plan(CHAIN, DEPTS, 2024, 1, 7)
    assert [(b.department, b.cycle) for b in plan] == [("内科", 0), ("外科", 0), ("妇产科", 0), ("儿科", 0),
                                                      ("急诊科", 0), ("内科", 1), ("外科", 1)]


def test_deferral_auto_goes_one_batch_later_and_last_moves_to_the_end():
    # 内科 is moved to the last batch; then 外科, now first, defers one batch
    plan = support.plan(CHAIN, DEPTS, 2024, 1, 5, deferrals={(0, "外科"): "auto", (0, "内科"): "last"})
    assert [b.department for b in plan] == ["妇产科", "外科", "儿科", "急诊科", "内科"]
    plan = support.plan(CHAIN, DEPTS, 2024, 1, 5, deferrals={(0, "外科"): "auto"})
    assert [b.department for b in plan] == ["内科", "妇产科", "外科", "儿科", "急诊科"]


def test_a_department_defers_only_once_per_cycle_and_again_next_cycle():
    depts = ["内科", "外科", "妇产科"]
    # cycle 0: 内科 moves to the last batch and, reaching it, cannot defer again in that cycle;
    # cycle 1: a new cycle, so 内科 may defer once more (automatic: one batch later)
    plan = support.plan(CHAIN, depts, 2024, 1, 6, deferrals={(0, "内科"): "last", (1, "内科"): "auto"})
    assert [(b.department, b.cycle) for b in plan] == [
        ("外科", 0), ("妇产科", 0), ("内科", 0), ("外科", 1), ("内科", 1), ("妇产科", 1)]


def test_a_year_without_holiday_data_is_refused():
    with pytest.raises(PolicyError) as exc:
        support.plan(CHAIN, DEPTS, 2027, 1, 1)
    assert exc.value.message == ("系统还没有录入 2027 年的法定节假日和调休安排，无法推算办理期限。"
                                 "请联系系统管理员按国务院办公厅 2027 年部分节假日安排的通知录入后再办理")


def test_staff_selection_priority_first_then_least_served():
    staff = {"内科": ["甲", "乙", "丙", "丁", "戊"]}
    plan = support.plan(CHAIN, ["内科"], 2025, 1, 2, staff=staff, priority={"戊"})
    # a priority request (rural service needed for promotion) holds until withdrawn
    assert [b.staff for b in plan] == [["戊", "甲", "乙"], ["戊", "丙", "丁"]]


def test_promotion_rule():
    r = support.promotion_check(CHAIN, "associate_senior", 3, dt.date(2025, 1, 1))
    assert (r["eligible"], r["reason"]) == (False, "晋升副高级职称前须在贫困县服务 6 个月，已服务 3 个月，还差 3 个月")
    assert support.promotion_check(CHAIN, "senior", 3, dt.date(2025, 1, 1))["eligible"] is True


def test_the_two_documented_examples():
    ex1 = record(teaching_sessions=["2025-01-10", "2025-01-24", "2025-02-07", "2025-02-21"],
                 ward_rounds=days(dt.date(2025, 1, 8), 7, 3) + days(dt.date(2025, 2, 5), 7, 5),
                 days_present=["2025-01-06", "2025-01-07", "2025-01-08"], working_days=4)
    r = support.assess(CHAIN, ex1)
    assert (r["failed_items"], r["deduction"], r["allowance_payable"], r["certificate_granted"]) == (1, "440.00", "880.00", True)
    ex2 = record(teaching_sessions=["2025-01-10", "2025-01-16"],
                 ward_rounds=days(dt.date(2025, 1, 8), 7, 3) + days(dt.date(2025, 2, 5), 7, 4),
                 days_present=["2025-01-06"], working_days=60, unauthorised_return_days=2)
    r = support.assess(CHAIN, ex2)
    assert (r["failed_items"], r["deduction"], r["allowance_payable"], r["certificate_granted"], r["repeat_dispatch"],
            r["fines"]["person"], r["fines"]["department"]) == (3, "880.00", "440.00", False, True, "80.00", "580.00")
