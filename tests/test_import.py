"""Excel import: all or nothing, every bad input answered in Chinese with row and column (SPEC §13)."""
import datetime as dt
import io

import pytest
from openpyxl import Workbook, load_workbook

from fupin.core.models import AuditEvent
from fupin.exchange import households as hx
from fupin.registry.models import Household, MembershipEvent, Person

from .conftest import V1, V2, pid

HEADERS = [c.header for c in hx.COLUMNS]


def row(number="N1", village=V1, name="甲", id_number=None, relation="户主", **over):
    values = {"户编号": number, "村代码": village, "贫困户属性": "一般贫困户", "主要致贫原因": "因病",
              "户状态": "待识别", "姓名": name, "证件号码": id_number or pid("1980-01-01", 11),
              "与户主关系": relation, "劳动技能": "普通劳动力", **over}
    return [values.get(h) for h in HEADERS]


def xlsx(rows, headers=None, *, title="户籍成员", before=None) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = title
    for r in before or []:
        ws.append(r)
    ws.append(headers or HEADERS)
    for r in rows:
        ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def good_file():
    return xlsx([row(name="甲", id_number=pid("1980-01-01", 11)),
                 row(name="乙", id_number=pid("1982-02-02", 22), relation="配偶"),
                 row(number="N2", village=V2, name="丙", id_number=pid("1975-07-07", 33), 其他致贫原因="缺技术、缺资金")])


def messages(report):
    return [str(p) for p in report.problems]


@pytest.fixture
def officer(world):
    return world.users["county_officer"]


def nothing_committed(world):
    assert Household.objects.count() == 4
    assert Person.objects.count() == 6
    assert MembershipEvent.objects.count() == 0


def test_import_commits_and_reimport_changes_nothing(world, officer):
    report = hx.run_import(officer, good_file(), "a.xlsx")
    assert messages(report) == []
    assert (report.households_created, report.persons_created, report.committed) == (2, 3, True)
    n2 = Household.objects.get(number="N2")
    assert (n2.other_cause_1, n2.other_cause_2, n2.village_id) == ("skills", "capital", V2)
    assert Person.objects.get(name="乙").household.number == "N1"
    assert MembershipEvent.objects.filter(kind="register").count() == 3
    audit_count = AuditEvent.objects.count()
    again = hx.run_import(officer, good_file(), "a.xlsx")
    assert (again.households_unchanged, again.persons_unchanged, again.households_created,
            again.households_updated, again.persons_updated) == (2, 3, 0, 0, 0)
    assert AuditEvent.objects.count() == audit_count + 1  # only the import record itself
    assert again.summary() == "导入完成：共 3 行；户 新增 0、更新 0、无变化 2；人 新增 0、更新 0、无变化 3"


def test_changed_row_updates_only_that_record(world, officer):
    hx.run_import(officer, good_file(), "a.xlsx")
    changed = xlsx([row(name="甲", id_number=pid("1980-01-01", 11), 健康状况="长期慢性病"),
                    row(name="乙", id_number=pid("1982-02-02", 22), relation="配偶"),
                    row(number="N2", village=V2, name="丙", id_number=pid("1975-07-07", 33), 其他致贫原因="缺技术、缺资金")])
    report = hx.run_import(officer, changed, "b.xlsx")
    assert (report.persons_updated, report.persons_unchanged, report.households_unchanged) == (1, 2, 2)
    assert Person.objects.get(name="甲").health == "chronic"


def test_dry_run_saves_nothing(world, officer):
    report = hx.run_import(officer, good_file(), "a.xlsx", dry_run=True)
    assert (report.ok, report.committed, report.households_created, report.persons_created) == (True, False, 2, 3)
    assert report.summary().startswith("试导入（未保存）：共 3 行")
    nothing_committed(world)


@pytest.mark.parametrize("cell, message", [
    (5.10122e17, "第2行R列（证件号码）：证件号码被存成了数字（5.10122E+17），后几位已丢失；请把该列设为“文本”格式后重新录入"),
    ("513435198001010112", "第2行R列（证件号码）：校验码错误：最后一位应为 4，实际为 2"),
    ("513435198002300111", "第2行R列（证件号码）：出生日期 19800230 不存在"),
])
def test_bad_id_cells(world, officer, cell, message):
    report = hx.run_import(officer, xlsx([row(id_number=cell)]), "x.xlsx")
    assert messages(report) == [message]
    nothing_committed(world)


def test_id_with_lowercase_x_full_width_and_spaces_is_accepted(world, officer):
    with_x = idcard_with_x()
    messy = " " + "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in with_x[:6]) + with_x[6:].lower() + " "
    report = hx.run_import(officer, xlsx([row(id_number=messy)]), "x.xlsx")
    assert messages(report) == []
    assert Person.objects.filter(id_number=with_x).count() == 1


def idcard_with_x():
    from fupin.core import idcard
    for seq in range(1000):
        value = idcard.make_id("513435", dt.date(1980, 1, 1), seq)
        if value.endswith("X"):
            return value
    raise AssertionError


def test_duplicate_person_in_one_file(world, officer):
    dup = pid("1980-01-01", 11)
    report = hx.run_import(officer, xlsx([row(id_number=dup), row(id_number=dup, name="甲2", relation="子女")]), "x")
    assert messages(report) == ["第3行R列（证件号码）：与第2行是同一人（证件号码重复）"]
    nothing_committed(world)


def test_person_already_in_another_household(world, officer):
    existing = world.h2.persons.get()
    report = hx.run_import(officer, xlsx([row(id_number=existing.id_number)]), "x")
    assert messages(report) == [
        "第2行R列（证件号码）：此人已登记在户 H2；请在系统中办理户间迁移，不能用导入改户"]
    nothing_committed(world)


def test_dates_in_every_format(world, officer):
    formats = ["2020年1月19日", "2020.1.19", "20200119", dt.datetime(2020, 1, 19), 43849, "2020-01-19", "2020/1/19"]
    rows = [row(number=f"D{i}", id_number=pid("1980-01-01", 100 + i * 2), 状态起始日期=f) for i, f in enumerate(formats)]
    report = hx.run_import(officer, xlsx(rows), "dates.xlsx")
    assert messages(report) == []
    assert set(Household.objects.filter(number__startswith="D").values_list("status_since", flat=True)) == {dt.date(2020, 1, 19)}


def test_impossible_and_unreadable_dates(world, officer):
    rows = [row(number="D1", id_number=pid("1980-01-01", 11), 状态起始日期="2021年2月30日"),
            row(number="D2", id_number=pid("1980-01-01", 13), 状态起始日期="去年春天")]
    report = hx.run_import(officer, xlsx(rows), "x")
    assert messages(report) == [
        "第2行H列（状态起始日期）：日期“2021年2月30日”不存在",
        "第3行H列（状态起始日期）：“去年春天”不是可识别的日期；可写作 2020-01-19、2020年1月19日、2020.1.19 或 20200119"]
    nothing_committed(world)


def test_empty_trailing_rows_are_ignored(world, officer):
    report = hx.run_import(officer, xlsx([row(), [None] * len(HEADERS), ["  "] + [None] * (len(HEADERS) - 1)]), "x")
    assert (messages(report), report.rows, report.persons_created) == ([], 1, 1)


def test_merged_and_multi_row_headers(world, officer):
    wb = Workbook()
    ws = wb.active
    ws.append(["甘洛县建档立卡贫困人口花名册"])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADERS))
    top = ["户信息"] * 15 + ["成员信息"] * (len(HEADERS) - 15)
    ws.append(top)
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=15)
    ws.merge_cells(start_row=2, start_column=16, end_row=2, end_column=len(HEADERS))
    ws.append([h + "*" if h in ("户编号", "姓名") else h for h in HEADERS])
    ws.append(row())
    out = io.BytesIO()
    wb.save(out)
    report = hx.run_import(officer, out.getvalue(), "merged.xlsx")
    assert (messages(report), report.persons_created) == ([], 1)


def test_sheet_that_is_not_the_template(world, officer):
    report = hx.run_import(officer, xlsx([["x", 1]], headers=["项目", "金额"], title="资金"), "other.xlsx")
    assert messages(report) == [
        "这不是本系统的导入模板：工作表“资金”缺少必需的列 户编号、村代码、贫困户属性、主要致贫原因、户状态、"
        "姓名、证件号码、与户主关系、劳动技能。请从“下载模板”获取模板，把数据粘贴进去后再导入"]
    nothing_committed(world)


def test_file_that_is_not_excel(world, officer):
    # CSV is read now (UTF-8 or GBK); this one simply is not the template.
    report = hx.run_import(officer, "姓名,证件号码\n张三,1".encode(), "名单.csv")
    assert messages(report) == [
        "这不是本系统的导入模板：工作表“名单.csv”缺少必需的列 户编号、村代码、贫困户属性、主要致贫原因、户状态、"
        "与户主关系、劳动技能。请从“下载模板”获取模板，把数据粘贴进去后再导入"]
    report = hx.run_import(officer, "%PDF-1.4 not a table".encode(), "名单.pdf")
    assert messages(report) == ["“名单.pdf”不是 Excel 文件（.xlsx 或 .xls）或 CSV 文件；如是 WPS 或其他格式，"
                                "请先在 Excel/WPS 中另存为 .xlsx"]
    report = hx.run_import(officer, b"PK\x03\x04broken zip", "坏.xlsx")
    assert messages(report) == ["“坏.xlsx”已损坏或不完整（可能只上传了一部分），无法读取；"
                                "请在 Excel/WPS 中打开它，另存为 .xlsx 后重新上传"]
    nothing_committed(world)


def test_fifty_megabyte_file_is_refused(world, officer, settings):
    settings.IMPORT_MAX_BYTES = 40 * 1024 * 1024
    report = hx.run_import(officer, b"PK\x03\x04" + b"\0" * (50 * 1024 * 1024), "big.xlsx")
    assert messages(report) == ["文件过大（50.0 MB），单个文件不能超过 40 MB；请按乡镇或村拆分后分批导入"]
    nothing_committed(world)


def test_missing_required_field_and_bad_choice(world, officer):
    report = hx.run_import(officer, xlsx([row(name=None, 劳动技能="很能干")]), "x")
    assert messages(report) == [
        "第2行P列（姓名）：必填项为空",
        "第2行Y列（劳动技能）：“很能干”不是可选值；可选：普通劳动力、技能劳动力、丧失劳动力、无劳动力"]
    nothing_committed(world)


def test_household_without_head_and_with_two_heads(world, officer):
    rows = [row(number="A", relation="配偶"),
            row(number="B", id_number=pid("1981-01-01", 11)), row(number="B", id_number=pid("1981-01-01", 13), name="乙")]
    report = hx.run_import(officer, xlsx(rows), "x")
    assert messages(report) == ["第2行T列（与户主关系）：户 A 没有户主，请标出一位“户主”",
                                "第4行T列（与户主关系）：户 B 有2位户主，一户只能有一位"]


def test_village_out_of_scope_and_unknown(world):
    officer = world.users["township_officer"]
    report = hx.run_import(officer, xlsx([row(village="513435101200"), row(number="N9", village="513435999999",
                                                                          id_number=pid("1990-01-01", 11))]), "x")
    assert messages(report) == ["第2行B列（村代码）：村 团结村（513435101200）不在您的管辖范围内",
                                "第3行B列（村代码）：村代码 513435999999 不存在或不是村级区划"]


def test_inconsistent_household_rows(world, officer):
    rows = [row(), row(name="乙", id_number=pid("1982-02-02", 22), relation="配偶", 贫困户属性="低保户")]
    report = hx.run_import(officer, xlsx(rows), "x")
    assert messages(report) == ["第3行D列（贫困户属性）：与本户第2行填写的不一致，同一户的户信息须相同"]


def test_error_workbook_marks_each_bad_cell(world, officer):
    report = hx.run_import(officer, xlsx([row(id_number="513435198001010112")]), "x")
    wb = load_workbook(io.BytesIO(report.error_workbook))
    listing = list(wb["错误清单"].values)
    assert listing == [("行号", "列", "列名", "原值", "错误原因"),
                       (2, "R", "证件号码", "513435198001010112", "校验码错误：最后一位应为 4，实际为 2")]
    cell = wb["原数据（已标出错误）"]["R2"]
    assert (cell.value, cell.fill.fgColor.rgb, cell.comment.text) == (
        "513435198001010112", "00FFC7CE", "校验码错误：最后一位应为 4，实际为 2")


def test_failed_import_is_audited(world, officer):
    hx.run_import(officer, b"junk", "junk.bin")
    ev = AuditEvent.objects.get(action="import")
    assert (ev.result, ev.summary) == ("failed", "导入失败：junk.bin（1处错误）")


def test_export_round_trip_and_formula_injection(world, officer):
    # (openpyxl would store a leading "=" as a real formula, so the file carries the other starters)
    first = hx.run_import(officer, xlsx([row(住址="+1+cmd|' /C calc'!A0"),
                                         row(number="N3", id_number=pid("1990-03-03", 11), 住址="@SUM(1)"),
                                         row(number="N5", id_number=pid("1990-03-03", 13), 住址="-2+3")]), "a")
    assert first.ok
    data, count = hx.export_households(officer, "513435100000")
    ws = load_workbook(io.BytesIO(data)).active
    rows = list(ws.values)
    assert rows[0] == tuple(HEADERS)
    addresses = {r[0]: r[HEADERS.index("住址")] for r in rows[1:]}
    assert (addresses["N1"], addresses["N3"], addresses["N5"]) == ("'+1+cmd|' /C calc'!A0", "'@SUM(1)", "'-2+3")
    assert count == 7
    # full IDs for a role that may see them, so the export can be re-imported unchanged
    again = hx.run_import(officer, data, "export.xlsx")
    assert messages(again) == []
    assert (again.persons_created, again.persons_updated, again.households_created, again.households_updated) == (0, 0, 0, 0)


def test_export_masks_ids_for_roles_without_reveal(world):
    health = world.users["health_officer"]
    data, _ = hx.export_households(health, "513435000000")
    ids = [r[HEADERS.index("证件号码")] for r in list(load_workbook(io.BytesIO(data)).active.values)[1:]]
    assert all(len(i) == 18 and i[6:14] == "********" for i in ids)


def test_template_has_chinese_headers_and_text_cells():
    wb = load_workbook(io.BytesIO(hx.template_workbook()))
    ws = wb["户籍成员"]
    assert [c.value for c in ws[1]][:3] == ["户编号*", "村代码*", "识别标准"]
    assert ws["Q2"].number_format == "@"
    assert wb["填写说明"]["C8"].value == "待识别、贫困户、已脱贫、返贫、监测对象、风险已消除、已注销"


def test_hidden_sheet_before_the_data_is_skipped(world, officer):
    wb = Workbook()
    hidden = wb.active
    hidden.title = "旧数据"
    hidden.append(HEADERS)
    hidden.append(row(number="OLD", id_number=pid("1960-01-01", 11)))
    hidden.sheet_state = "hidden"
    ws = wb.create_sheet("户籍成员")
    ws.append(HEADERS)
    ws.append(row())
    out = io.BytesIO()
    wb.save(out)
    report = hx.run_import(officer, out.getvalue(), "hidden.xlsx")
    assert (messages(report), list(Household.objects.filter(number__in=["OLD", "N1"]).values_list("number", flat=True))) \
        == ([], ["N1"])
