"""Plain Chinese (issue 13 §4): one semester parser and label, labels of the ledger's codes,
rates as percentages, and policy data that cites documents an officer can look up."""
import datetime as dt
import re
from pathlib import Path

import pytest
import yaml

from fupin.core.templatetags import fupin as tags
from fupin.policy import labels, semester

POLICIES = Path(__file__).resolve().parents[1] / "policies"


@pytest.mark.parametrize("text", ["2027年春季", "2027-spring", "2027春", "2027年春季学期", " 2027 春季 ", "2027年春"])
def test_every_spelling_of_a_spring_semester_is_the_same_semester(text):
    assert semester.parse(text) == (2027, "spring")
    assert semester.code(text) == "2027-spring"
    assert semester.label(text) == "2027年春季"


@pytest.mark.parametrize("text", ["", "2027", "2027年夏季", "27年秋季", "2027-fall", "秋季2027"])
def test_a_text_that_names_no_semester_is_refused_in_chinese(text):
    with pytest.raises(semester.SemesterError) as e:
        semester.parse(text)
    assert e.value.message == f"学期“{text}”应写作 2027年春季 或 2026年秋季"


def test_semester_choices_are_the_ones_around_today_newest_first():
    assert semester.recent(dt.date(2026, 12, 2)) == [
        ("2027-spring", "2027年春季"), ("2026-autumn", "2026年秋季"), ("2026-spring", "2026年春季"),
        ("2025-autumn", "2025年秋季"), ("2025-spring", "2025年春季")]
    assert semester.recent(dt.date(2026, 3, 1), back=1, ahead=0) == [("2026-spring", "2026年春季"),
                                                                    ("2025-autumn", "2025年秋季")]


def test_ledger_codes_read_as_the_rules_name_them():
    assert labels.entitlement("education.nutrition_meals") == "营养膳食补助"
    assert labels.entitlement("health.settlement") == "医疗费用一站式结算"
    assert labels.entitlement("something.else") == "something.else"
    assert [labels.period(p) for p in ("2026-autumn", "2026", "2026-05", "")] == ["2026年秋季", "2026年", "2026年5月", ""]
    assert [labels.period(p) for p in ("2026Q3", "2026-05-01", "2")] == ["2026年第3季度", "2026年5月1日", "2"]


@pytest.mark.parametrize("code, name", [
    ("health.premium", "城乡居民医保参保资助"), ("labour.public_job", "公益性岗位补贴"),
    ("welfare.dibao", "最低生活保障（低保）"), ("welfare.tekun", "特困人员救助供养"),
    ("project.XM-2026-01", "扶贫项目资金（项目 XM-2026-01）"), ("housing.relocation", "易地扶贫搬迁"),
    ("dividend.3", "资产收益分红"), ("credit.7", "扶贫小额信贷贴息"),
    ("support.fine.person_fine", "个人罚款"), ("support.fine.refusal", "科室拒派罚款"),
    ("support.fine.dept_assessment", "科室考核罚款"), ("charity.yuanmeng", "圆梦助学"),
    ("charity.sunshine_class.province", "慈善阳光班（省级承担部分）"), ("education.college_entrant", "大学新生入学资助")])
def test_every_room_that_pays_from_the_ledger_names_its_codes(code, name):
    """Each code a room writes to the ledger (funds pages, oversight lists, household payments) reads as a name."""
    assert labels.entitlement(code) == name


def test_rates_kept_in_permille_show_as_percent():
    assert [tags.percent(v) for v in (1000, 900, 5, 0, None)] == ["100%", "90%", "0.5%", "0%", ""]


def _sources(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "source":
                yield str(v)
            yield from _sources(v)
    elif isinstance(node, list):
        for v in node:
            yield from _sources(v)


def test_policy_data_cites_documents_not_the_spec_nor_file_names():
    files = sorted(POLICIES.rglob("*.yaml"))
    sources = [(f.name, s) for f in files for s in _sources(yaml.safe_load(f.read_text(encoding="utf-8")))]
    # the walk reaches the packs' dated values (the national nutrition-meal rate of 2011, for one)
    assert ("cn-national.yaml", "国办发〔2011〕54号；学生资助公开政策资料（2011年3元）") in sources
    bad = [(f, s) for f, s in sources if "SPEC" in s or "§" in s or ".txt" in s or "种子" in s]
    assert bad == []
    titles = [yaml.safe_load(f.read_text(encoding="utf-8")).get("title", "") for f in (POLICIES / "packs").glob("*.yaml")]
    assert [t for t in titles if "SPEC" in t or "种子" in t] == []


def test_import_template_offers_a_dropdown_on_every_coded_column():
    import io

    from openpyxl import load_workbook

    from fupin.exchange.households import COLUMNS, template_workbook
    from fupin.registry.choices import Sex

    wb = load_workbook(io.BytesIO(template_workbook()))
    assert wb.sheetnames == ["户籍成员", "可选值", "填写说明"] and wb["可选值"].sheet_state == "hidden"
    ws = wb["户籍成员"]
    headers = [c.value.rstrip("*") for c in ws[1]]
    by_column = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    letter = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    with_list = sorted(headers[letter.index(ref[0]) if len(ref.split(":")[0]) == 2 else 26 + letter.index(ref[1])]
                       for ref in by_column)
    assert with_list == sorted(["识别标准", "贫困户属性", "主要致贫原因", "户状态", "住房安全等级", "易地扶贫搬迁",
                                "性别", "与户主关系", "文化程度", "在校生状况", "健康状况", "劳动技能",
                                "参加医保", "参加养老保险", "低保特困"])
    sex = headers.index("性别")
    ref = f"{letter[sex]}2:{letter[sex]}501" if sex < 26 else f"A{letter[sex - 26]}2:A{letter[sex - 26]}501"
    dv = by_column[ref]
    col = dv.formula1.split("!$")[1].split("$")[0]
    options = [c.value for c in wb["可选值"][col] if c.value is not None]
    assert options == ["性别"] + [label for _, label in Sex.choices]
    assert (dv.type, dv.showErrorMessage, dv.errorTitle) == ("list", True, "不是可选值")
    assert "其他致贫原因" in headers and len(by_column) == sum(1 for c in COLUMNS if c.key != "other_causes" and (
        c.key in ("standard", "attribute", "main_cause", "status", "housing_grade", "sex", "relation", "education",
                  "schooling", "health", "labour", "assistance") or c.parse.__name__ == "boolean"))


@pytest.mark.parametrize("status", [403, 404, 500])
def test_error_pages_are_chinese_in_the_sites_layout(world, login, rf, status):
    from fupin.core import views

    client = login("village_cadre")
    if status == 404:
        html = client.get("/no-such-page/").content.decode()
    elif status == 403:
        html = client.get("/audit/").content.decode()   # a village cadre may not read the audit log
    else:
        request = rf.get("/")
        request.user = world.users["village_cadre"]
        html = views.server_error(request).content.decode()
    message = {403: "您的角色没有“查看审计日志”权限，如需办理请联系县级管理员", 404: "找不到该页面或记录：请检查网址中的编号是否正确，或从首页重新进入。",
               500: "系统内部出错，操作未完成。请稍后重试；如仍出错，请把出错时间告诉系统管理员。"}[status]
    assert message in html
    assert '<header class="top">' in html and "扶贫信息系统" in html and '<html lang="zh-hans">' in html


def test_a_department_list_is_named_by_its_kind_not_its_key():
    from fupin.monitoring.models import Batch

    assert Batch(kind="dibao").kind_label == "低保对象名单"
    assert Batch(kind="no_such_kind").kind_label == "no_such_kind"


@pytest.mark.usefixtures("on_a_covered_day")
def test_a_workflow_step_is_named_as_its_definition_names_it(world):
    from fupin.workflows import services as wf
    from fupin.workflows.models import Action

    from .test_workflows import new_applicant
    village = world.users["village_cadre"]
    inst = wf.start(actor=village, household=new_applicant(world), kind="identification")
    wf.act(actor=village, instance_id=inst.pk, step_key="application", decision="approve")
    assert [(a.decision, a.step_label) for a in Action.objects.filter(instance=inst)] == [
        ("start", ""), ("approve", "农户申请")]


def test_reversal_at_the_window_asks_for_confirmation_and_a_reason(db, client):
    from fupin.health import services
    from fupin.health.models import Claim

    from .test_health import BILL_1, build_shili, second_window
    hospital, patient, window, fund = build_shili()
    claim = services.settle(user=window, hospital=hospital, person=patient, number="Z1", bill=BILL_1)
    client.force_login(second_window())
    page = client.get(f"/health/claims/{claim.pk}/").content.decode()
    assert '<input type="checkbox" name="confirm" value="1" required>' in page and '<input name="reason" required' in page
    url = f"/health/claims/{claim.pk}/reverse/"
    r = client.post(url, {"reason": "录入错误"}, follow=True)
    assert "确认冲销：请勾选“我已核对”后再冲销" in r.content.decode()
    r = client.post(url, {"confirm": "1", "reason": " "}, follow=True)
    assert "冲销原因：必须填写" in r.content.decode()
    assert Claim.objects.get(pk=claim.pk).status == "settled"
    client.post(url, {"confirm": "1", "reason": "录入错误"})
    assert Claim.objects.get(pk=claim.pk).status == "reversed"


def test_audit_page_names_users_and_permissions_not_their_codes(world, login):
    from fupin.core import access
    from fupin.core.errors import AccessDenied
    from fupin.core.models import AuditEvent
    from fupin.core.roles import Cap

    helper = world.users["pairing_helper"]
    helper.first_name = "帮扶干部甲"
    helper.save()
    with pytest.raises(AccessDenied):
        access.require(helper, Cap.FIND_BY_FULL_ID)
    client = login("county_admin")
    client.post("/logout/")
    client.force_login(world.users["auditor"])
    html = client.get("/audit/").content.decode()
    denied = AuditEvent.objects.get(object_type="capability", actor=helper)
    label = Cap(Cap.FIND_BY_FULL_ID).label
    assert denied.summary == f"缺少权限“{label}”"
    assert f"<td>权限“{label}”</td>" in html and "find_by_full_id" not in html
    assert "user " not in html and "<td>用户 " in html


def test_an_explanation_reads_as_a_sentence_with_words_for_codes_and_percent_for_ratios():
    from fupin.policy import explain

    e = {"label": "医院承担", "amount": "2016.00", "pack": "shili-2024/cn-national",
         "branches": ["县域内符合条件：是", "属于减免对象：是"],
         "parameters": {"health.waiver.categories": {"value": ["registered_poor", "dibao"], "source": "甲"},
                        "health.absorption.share": {"value": "0.08", "source": "乙"}}}
    assert explain.pack_title("shili-2024/cn-national") == "示例省 2024"
    assert explain.pack_title("sc-513435/sc-province/cn-national, shili-2024") == "四川某县、示例省 2024"
    sentence = explain.sentence(e)
    assert sentence.startswith("按示例省 2024的政策，医院承担 2016.00 元。条件：县域内符合条件、属于减免对象。标准：")
    assert "建档立卡、低保（甲）" in sentence and "县域内目录外费用超过总费用此比例的部分由医院承担 8%（乙）" in sentence


def test_the_trace_one_click_away_names_each_parameter_by_its_description_never_its_code():
    from fupin.policy import explain

    e = {"label": "学前保教费减免", "amount": "600.00", "pack": "shili-2024/cn-national",
         "branches": ["学前且家庭经济困难：是"],
         "parameters": {"education.preschool.fee_waiver_mode": {"value": "actual", "from": "2017-01-01", "source": "甲"},
                        "education.nutrition.poor_only": {"value": False, "from": "2011-11-01", "source": "乙"},
                        "education.nutrition.daily_rate": {"value": "5.00", "from": "2021-09-01", "source": "丙"},
                        "no.such.parameter": {"value": "x_y", "source": "丁"}}}
    assert explain.trace(e) == [
        "政策：示例省 2024", "学前且家庭经济困难：是",
        "学前保教费减免方式：按实际收费减免（2017-01-01起，甲）",
        "营养膳食补助是否仅限家庭经济困难学生（国家计划覆盖试点地区全体农村义务教育学生）：否（2011-11-01起，乙）",
        "农村义务教育学生营养改善计划膳食补助（每生每天）：5.00 元（2021-09-01起，丙）",
        "（未说明的参数）：x_y（丁）"]
    # the sentence words a listed choice the same way, and leaves out what no pack describes
    assert explain.sentence(e) == (
        "按示例省 2024的政策，学前保教费减免 600.00 元。条件：学前且家庭经济困难。标准：学前保教费减免方式 按实际收费减免（甲）；"
        "营养膳食补助是否仅限家庭经济困难学生（国家计划覆盖试点地区全体农村义务教育学生） 否（乙）；"
        "农村义务教育学生营养改善计划膳食补助（每生每天） 5.00 元（丙）。")


def test_every_kind_of_object_the_audit_log_records_has_a_name_on_the_audit_page():
    """The audit page says what an event was about ("结算单 12", not "对象 12"): each object_type the
    code records has a name in core.audit.OBJECT_LABELS."""
    from fupin.core.audit import OBJECT_LABELS

    source = Path(__file__).resolve().parents[1] / "fupin"
    recorded = {m for f in source.rglob("*.py") for m in re.findall(r'object_type="([a-z_]+)"', f.read_text())}
    assert len(recorded) >= 130 and sorted(recorded - set(OBJECT_LABELS)) == []


@pytest.mark.parametrize("pack, region", [("shili-2024", "990101000000"), ("sc-513435", "513435100200")])
def test_a_settlements_every_payer_reads_without_codes_in_its_sentence_and_trace(pack, region):
    """Visit types, categories and the critical-illness bands are worded ("住院", "0.00～50000.00 元 60%"),
    never printed as codes or as the pack's data (the what-if pages show these sentences)."""
    from fupin.policy import explain
    from fupin.policy.packs import PackSet
    from fupin.policy.rules import health

    chain = PackSet.shipped().chain(pack)
    funds = health.funds_of(chain, dt.date(2024, 6, 1))
    claim = {"region": region, "discharge_date": "2024-06-01", "visit_type": "inpatient", "level": "county",
             "in_county": True, "referred": False, "categories": ["dibao", "registered_poor"],
             "total": "100000.00", "in_policy": "90000.00", "waivable": "200.00",
             "ytd": {"basic": "0", "ci_base": "0", "ci": "0", "assistance": "0", "topup": {f: "0" for f in funds}},
             "fund_balances": {f: "1000000.00" for f in funds}}
    texts = {}
    for p in health.settle(chain, claim)["payers"]:
        e = dict(p["explanation"], label=p["label"], amount=p["amount"])
        texts[p["rule"]] = explain.sentence(e) + "；".join(explain.trace(e))
    latin = {rule: sorted(set(re.findall(r"(?<![A-Za-z0-9@./_-])[a-z]{3,}(?![A-Za-z0-9@./_-])", t)))
             for rule, t in texts.items()}
    assert {rule: w for rule, w in latin.items() if w} == {}
    if pack == "shili-2024":
        assert ("大病保险分段报销比例（起付线以上的合规费用按段报销） 0.00～50000.00 元 60%；50000.00～100000.00 元 70%；"
                "100000.00 元以上 80%") in texts["health.critical_illness"]
    assert "住院" in texts["health.absorbed"]
