"""Hostile uploads (issue 11 §4): each file of the corpus in tests/hostile.py goes through the real
household importer (and the education roster importer) and gets a clear Chinese refusal, writes
nothing, and stays within the memory and time caps.

Memory is measured in a child process: the test forks, the child runs the import and exits, and
the parent reads the child's peak resident size (`ru_maxrss`, which includes the pytest process
the child was forked from, so the number is an upper bound for a worker handling the upload).
The child's own database writes stay in its copy; the parent runs the same import again for the
assertions on the database. Forking shares the database connection, which is safe only for
SQLite's in-memory test database: on PostgreSQL the child measures the reading alone.
"""
from __future__ import annotations

import io
import os
import pickle
import resource
import time
import zipfile

import pytest
from django.db import connection

from fupin.core.models import AuditEvent
from fupin.core.roles import Cap
from fupin.education.importer import COLUMNS as ROSTER_COLUMNS, import_roster
from fupin.education.models import Enrolment
from fupin.exchange import excel, households as hx
from fupin.registry.models import Household, MembershipEvent, Person

from . import hostile as H
from .conftest import V1, pid

HEADERS = [c.header for c in hx.COLUMNS]
ROSTER = [c.header for c in ROSTER_COLUMNS]
MAX_MB = 500
MAX_SECONDS = 5.0
MEASURED: dict[str, tuple[float, float]] = {}  # case → (seconds, peak MB), printed at the end


def good_row(**over):
    values = {"户编号": "N1", "村代码": V1, "贫困户属性": "一般贫困户", "主要致贫原因": "因病", "户状态": "待识别",
              "姓名": "甲", "证件号码": pid("1980-01-01", 11), "与户主关系": "户主", "劳动技能": "普通劳动力", **over}
    return [values.get(h) for h in HEADERS]


def in_child(fn):
    """Run fn() in a forked child; return (its result, seconds, the child's peak RSS in MB)."""
    r, w = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        code = 0
        try:
            os.close(r)
            start = time.perf_counter()
            result = fn()
            payload = (result, time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
        except BaseException as exc:  # noqa: BLE001 - reported to the parent
            payload, code = (f"{type(exc).__name__}: {exc}", -1.0, 0), 1
        with os.fdopen(w, "wb") as f:
            f.write(pickle.dumps(payload))
        os._exit(code)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        raw = f.read()
    _, status = os.waitpid(child, 0)
    # the largest peak of any child so far (an upper bound), and this child's own peak
    children_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    result, seconds, own_kb = pickle.loads(raw)
    assert os.waitstatus_to_exitcode(status) == 0, result
    assert children_mb < MAX_MB, f"a child import peaked at {children_mb:.0f} MB"
    return result, seconds, own_kb / 1024


def refusal(report) -> list[str]:
    return [str(p) for p in report.problems]


def counts():
    return (Household.objects.count(), Person.objects.count(), MembershipEvent.objects.count(),
            AuditEvent.objects.filter(result="ok", action="import").count())


def household_import(case: str, user, data: bytes, filename: str):
    """The import, measured in a child, then run for real; returns the real report."""
    if connection.vendor == "sqlite":
        def work():
            report = hx.run_import(user, data, filename)
            return refusal(report)
    else:
        def work():
            try:
                excel.read_table(data, hx.COLUMNS, filename=filename)
            except excel.FileRejected as exc:
                return [exc.message]
            return []
    child_messages, seconds, peak = in_child(work)
    MEASURED[case] = (seconds, peak)
    assert seconds < MAX_SECONDS, f"{case}: {seconds:.2f} s"
    assert peak < MAX_MB, f"{case}: {peak:.0f} MB"
    report = hx.run_import(user, data, filename)
    if connection.vendor == "sqlite":
        assert child_messages == refusal(report)
    return report


@pytest.fixture
def officer(world):
    return world.users["county_officer"]


@pytest.fixture
def before(world):
    return counts()


DAMAGED = "“{}”已损坏或不完整（可能只上传了一部分），无法读取；请在 Excel/WPS 中打开它，另存为 .xlsx 后重新上传"
BLOAT = ("“x.xlsx”中的{}解压后过大（{}，上限 {}），多为被其他软件写入了大量无用内容；"
         "请在 Excel/WPS 中新建工作簿，只把需要的数据“选择性粘贴→数值”过去，另存为 .xlsx 后再导入")
STYLES = ("“x.xlsx”的样式表不正常（{}），多为被其他软件反复复制格式所致；"
          "请在 Excel/WPS 中新建工作簿，把数据“选择性粘贴→数值”过去，另存为 .xlsx 后再导入")
MACRO = "“{}”含有宏（VBA 代码），为安全起见不予导入；请在 Excel/WPS 中另存为“Excel 工作簿（*.xlsx）”（不含宏）后再导入"
EXTERNAL = ("“x.xlsx”含有外部链接或数据连接（从其他文件或网址取数），为安全起见不予导入；"
            "请在 Excel 中“数据→编辑链接→断开链接”，或把数据“选择性粘贴→数值”到新工作簿，另存为 .xlsx 后再导入")
BEYOND = ("工作表“户籍成员”的内容延伸到第 {} 行、第 {} 列（{} 列），超过导入上限（每个工作表最多 80000 行、60 列）；"
          "请删除表格下方和右侧多余的内容（整行、整列删除），数据多时按乡镇或村拆分成几个文件分批导入")
ENCODING = ("“名单.csv”的编码是 {}，不是 UTF-8 或 GBK/GB18030，中文会成乱码，不能导入；"
            "请用 Excel/WPS 另存为“CSV UTF-8（逗号分隔）”或 .xlsx 后再导入")

CASES = {
    # name: (builder, filename, the exact refusal)
    "declared A1:XFD1048576": (lambda: H.declared_whole_sheet(HEADERS), "x.xlsx",
                               ["工作表“户籍成员”表头下面没有数据行"]),
    "value at XFD1048576": (lambda: H.cell_at_the_far_corner(HEADERS), "x.xlsx", [BEYOND.format(1048576, 16384, "XFD")]),
    "value at row 1000000": (
        lambda: H.package(H.sheet_xml(H.rows_xml([HEADERS]) + '<row r="1000000"><c r="A1000000"><v>1</v></c></row>')),
        "x.xlsx", [BEYOND.format(1000000, 29, "AC")]),  # the extent: last row, last column
    "zip bomb (200 MB of blanks)": (lambda: H.zip_bomb(HEADERS, 200), "x.xlsx", lambda data: [
        f"“x.xlsx”的压缩比异常（部件 xl/worksheets/sheet1.xml 从 {_compressed_kb(data)} KB 解压为 200 MB，超过 100 倍），"
        "可能是“压缩炸弹”，不予导入；请在 Excel/WPS 中打开原始数据，另存为 .xlsx 后再导入"]),
    "part lying about its size": (lambda: H.lying_sizes(HEADERS), "x.xlsx", [DAMAGED.format("x.xlsx")]),
    "shared strings of 120 MB": (lambda: H.huge_shared_strings(HEADERS), "x.xlsx",
                                 [BLOAT.format("共享字符串表", "128 MB", "100 MB")]),
    "styles of 13 MB": (lambda: H.many_styles(HEADERS, 200_000), "x.xlsx", [BLOAT.format("样式表", "13 MB", "5 MB")]),
    "70000 styles": (lambda: H.many_styles(HEADERS, 70_000), "x.xlsx",
                     [STYLES.format("70000 种单元格格式（Excel 最多 64000 种）")]),
    "styles nested 20000 deep": (lambda: H.deep_styles(HEADERS), "x.xlsx", [STYLES.format("嵌套 20001 层")]),
    "macros (.xlsm)": (lambda: H.with_macros(HEADERS), "名单.xlsm", [MACRO.format("名单.xlsm")]),
    "macros renamed .xlsx": (lambda: H.with_macros(HEADERS), "名单.xlsx", [MACRO.format("名单.xlsx")]),
    "external link": (lambda: H.with_external_link(HEADERS), "x.xlsx", [EXTERNAL]),
    "encrypted": (lambda: H.encrypted(), "x.xlsx",
                  ["“x.xlsx”设有打开密码（已加密），系统无法读取；请在 Excel/WPS 中取消密码（文件→信息→保护工作簿）后另存为 .xlsx 再导入"]),
    "text renamed .xlsx": (lambda: H.text_renamed(), "名单.xlsx",
                           ["“名单.xlsx”的扩展名是 .xlsx，但内容不是 Excel 工作簿（像是文本文件被改了扩展名）；"
                            "请在 Excel/WPS 中打开原始数据，另存为 .xlsx 后再导入"]),
    "empty file": (lambda: b"", "名单.xlsx",
                   ["“名单.xlsx”是空文件（0 字节）；请确认选对了文件，在 Excel/WPS 中保存后重新上传"]),
    "truncated zip": (lambda: H.truncated(H.package(H.sheet_xml(H.rows_xml([HEADERS, good_row()] * 50)))), "x.xlsx",
                      [DAMAGED.format("x.xlsx")]),
    "zip that is not a workbook": (lambda: _plain_zip(), "x.xlsx",
                                   ["“x.xlsx”是一个压缩包，但不是 Excel 工作簿（可能是 Word、WPS 文档或 zip 文件改了扩展名）；"
                                    "请上传 .xlsx 文件"]),
    "DTD with entities": (lambda: H.package(
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
        + H.sheet_xml(H.rows_xml([HEADERS])).split("\n", 1)[1]), "x.xlsx", [DAMAGED.format("x.xlsx")]),
    "CSV in Big5": (lambda: H.csv_bytes(BIG5, "big5"), "名单.csv",
                    [ENCODING.format("Big5（繁体）")]),
    "CSV in UTF-16": (lambda: H.csv_bytes([["户编号", "姓名"]], "utf-16"), "名单.csv",
                      ["“名单.csv”的编码是 UTF-16（Unicode 文本），不能导入；请用 Excel/WPS 另存为“CSV UTF-8（逗号分隔）”或 .xlsx 后再导入"]),
    "CSV line with 100000 columns": (lambda: H.csv_bytes([HEADERS, ["x"] * 100_000], "utf-8"), "名单.csv",
                                     ["工作表“名单.csv”的内容延伸到第 2 行、第 100000 列，超过导入上限（每个工作表最多 "
                                      "80000 行、60 列）；请删除表格下方和右侧多余的内容（整行、整列删除），数据多时按乡镇或村拆分成几个文件分批导入"]),
}


BIG5 = [["戶編號", "村代碼", "貧困戶屬性", "主要致貧原因", "戶狀態", "姓名", "證件號碼", "與戶主關係", "勞動技能"],
        ["N1", "513435100200", "一般貧困戶", "因病", "待識別", "張三", "513435198001011234", "戶主", "普通勞動力"]]


def _compressed_kb(data: bytes) -> str:
    return f"{zipfile.ZipFile(io.BytesIO(data)).getinfo('xl/worksheets/sheet1.xml').compress_size / 1024:.0f}"


def _plain_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_file_is_refused_within_caps(case, world, officer, before):
    build, filename, expected = CASES[case]
    data = build()
    expected = expected(data) if callable(expected) else expected
    report = household_import(case, officer, data, filename)
    assert refusal(report) == expected
    assert not report.committed
    assert counts() == before  # nothing written (the failed import's own audit row is result="failed")


def test_formulas_are_read_as_cached_values_never_evaluated(world, officer, before):
    data = H.with_formulas(HEADERS, good_row())
    report = household_import("formulas", officer, data, "x.xlsx")
    # 户状态 holds WEBSERVICE(...) with a cached #VALUE!, 劳动技能 holds 1+1 with no cached value:
    # neither is computed, both are read as empty.
    assert refusal(report) == ["第2行G列（户状态）：必填项为空", "第2行Y列（劳动技能）：必填项为空"]
    assert counts() == before
    table = excel.read_table(data, hx.COLUMNS, filename="x.xlsx")
    assert table.rows[0][1]["name"] == "张三"  # ="张"&"三", read as the value Excel cached


def test_wrong_cell_types(world, officer, before):
    report = household_import("wrong types", officer, H.wrong_types(HEADERS, good_row()), "x.xlsx")
    assert refusal(report) == [
        "第2行H列（状态起始日期）：“True”不是可识别的日期；可写作 2020-01-19、2020年1月19日、2020.1.19 或 20200119",
        "第2行R列（证件号码）：证件号码被存成了数字（5.13435E+17），后几位已丢失；请把该列设为“文本”格式后重新录入"]
    assert counts() == before


@pytest.mark.parametrize("encoding,bom", [("utf-8", True), ("gbk", False), ("gb18030", False), ("utf-8", False)])
def test_csv_in_utf8_with_bom_and_gbk_is_read(encoding, bom, world, officer, before):
    data = H.csv_bytes([HEADERS, good_row()], encoding, bom=bom)
    report = household_import(f"CSV {encoding}{' BOM' if bom else ''}", officer, data, "名单.csv")
    assert (refusal(report), report.committed, report.households_created, report.persons_created) == ([], True, 1, 1)
    assert Person.objects.get(id_number=pid("1980-01-01", 11)).name == "甲"


def test_error_workbook_copies_only_used_cells(world, officer):
    # a real data row with a bad cell, a declared whole-sheet range and 5000 styled empty cells far out
    empty = "".join(f'<c r="{H.col_letter(j)}{i}" s="0"/>' for i in range(3, 103) for j in range(50, 100))
    sheet = H.sheet_xml(H.rows_xml([HEADERS, good_row(劳动技能="很能干")]) + f'<row r="3">{empty}</row>',
                        dimension="A1:XFD1048576")
    report = household_import("error workbook", officer, H.package(sheet), "x.xlsx")
    assert refusal(report) == ["第2行Y列（劳动技能）：“很能干”不是可选值；可选：普通劳动力、技能劳动力、丧失劳动力、无劳动力"]
    from openpyxl import load_workbook
    wb = load_workbook(io.BytesIO(report.error_workbook))
    ws = wb["原数据（已标出错误）"]
    assert (ws.max_row, ws.max_column) == (2, len(HEADERS))
    assert ws["Y2"].value == "很能干" and ws["Y2"].fill.fgColor.rgb == "00FFC7CE"
    assert ws["Y2"].comment.text == "“很能干”不是可选值；可选：普通劳动力、技能劳动力、丧失劳动力、无劳动力"


ROSTER_CASES = ["value at XFD1048576", "zip bomb (200 MB of blanks)", "shared strings of 120 MB", "macros (.xlsm)",
                "external link", "CSV in Big5", "truncated zip", "empty file"]


@pytest.mark.parametrize("case", ROSTER_CASES)
def test_roster_importer_refuses_the_same_files(case, world):
    from fupin.core.access import may
    user = next(u for u in world.users.values() if may(u, Cap.EDU_MANAGE))
    build, filename, expected = CASES[case]
    data = build()
    if case == "value at XFD1048576":
        data = H.cell_at_the_far_corner(ROSTER)
        expected = [BEYOND.format(1048576, 16384, "XFD").replace("户籍成员", "户籍成员")]
    elif case == "zip bomb (200 MB of blanks)":
        data = H.zip_bomb(ROSTER, 200)
        expected = expected(data)
    elif case == "shared strings of 120 MB":
        data = H.huge_shared_strings(ROSTER)
    n = Enrolment.objects.count()

    def work():
        return refusal(import_roster(user, data, filename))
    if connection.vendor == "sqlite":
        child, seconds, peak = in_child(work)
        MEASURED[f"roster: {case}"] = (seconds, peak)
        assert (child, seconds < MAX_SECONDS, peak < MAX_MB) == (expected, True, True)
    report = import_roster(user, data, filename)
    assert refusal(report) == expected
    assert Enrolment.objects.count() == n


def test_zz_print_measurements(capsys):
    """Not a check: the numbers for the report (run with -s to see them)."""
    with capsys.disabled():
        for case, (seconds, peak) in MEASURED.items():
            print(f"  {case:40s} {seconds * 1000:8.0f} ms  peak RSS {peak:6.0f} MB")


# ---- uploads and files on disk -----------------------------------------------------------

from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402


def files_under(root) -> list:
    return sorted(p for p in root.rglob("*") if p.is_file())


@pytest.fixture
def private_var(settings, tmp_path):
    """VAR_DIR in a fresh directory; Django may not spool uploads to disk (the temp dir is absent)."""
    settings.VAR_DIR = tmp_path / "var"
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "no-such-dir")  # spooling there would fail the request
    return settings.VAR_DIR


def test_upload_over_the_limit_states_the_real_size_and_limit(login, world, settings, private_var, before):
    settings.IMPORT_MAX_BYTES = 1024 * 1024
    r = login("county_officer").post("/exchange/", {"file": SimpleUploadedFile("大文件.xlsx", b"PK\x03\x04" + b"\0" * (3 << 20))})
    assert r.status_code == 200
    assert "文件“大文件.xlsx”过大（3.0 MB），单个文件不能超过 1 MB；请按乡镇或村拆分后分批上传" in r.content.decode()
    assert counts() == before and files_under(private_var.parent) == []


@pytest.mark.parametrize("role,url", [("village_cadre", "/exchange/"), ("auditor", "/exchange/"),
                                      ("county_officer", "/education/roster/"), ("auditor", "/pairing/pairs/")])
def test_upload_without_permission_writes_nothing(role, url, login, world, private_var, before):
    data = H.cell_at_the_far_corner(HEADERS) + b"\0" * (6 << 20)  # over Django's 2.5 MB spooling threshold
    r = login(role).post(url, {"file": SimpleUploadedFile("x.xlsx", data)})
    assert r.status_code == 403
    assert counts() == before and files_under(private_var.parent) == []


def test_error_workbook_is_private_and_swept_after_the_retention_period(login, world, settings, private_var, capsys):
    from fupin.cli.main import main

    c = login("county_officer")
    r = c.post("/exchange/", {"file": SimpleUploadedFile("x.xlsx", H.wrong_types(HEADERS, good_row()))}, follow=True)
    assert "发现 2 处错误，未导入任何数据" in r.content.decode()
    [path] = files_under(private_var)
    assert (path.parent.name, path.stat().st_mode & 0o777, path.parent.stat().st_mode & 0o777) == \
        ("import-errors", 0o600, 0o700)
    token = path.stem
    assert c.get(f"/exchange/errors/{token}/").status_code == 200
    settings.FILE_RETENTION_HOURS = 24
    assert main(["files", "sweep"]) == 0  # young files stay
    assert files_under(private_var) == [path]
    old = time.time() - 25 * 3600
    os.utime(path, (old, old))
    assert c.get(f"/exchange/errors/{token}/").status_code == 404  # expired even before the sweep
    capsys.readouterr()
    assert main(["files", "sweep"]) == 0
    assert capsys.readouterr().out == "已删除 1 个超过保留期（24 小时）的生成文件（导入错误标注工作簿）\n"
    assert files_under(private_var) == []


def test_a_new_error_workbook_sweeps_expired_ones(login, world, private_var):
    c = login("county_officer")
    bad = SimpleUploadedFile("x.xlsx", H.wrong_types(HEADERS, good_row()))
    c.post("/exchange/", {"file": bad})
    [first] = files_under(private_var)
    old = time.time() - 100 * 3600
    os.utime(first, (old, old))
    c.post("/exchange/", {"file": SimpleUploadedFile("x.xlsx", H.wrong_types(HEADERS, good_row()))})
    [second] = files_under(private_var)
    assert second != first


def test_secret_key_and_sqlite_database_are_0600(tmp_path):
    import subprocess
    import sys

    var = tmp_path / "var"
    var.mkdir()
    (var / "fupin.sqlite3").write_bytes(b"")
    os.chmod(var / "fupin.sqlite3", 0o644)  # a database made before this fix is tightened too
    env = {k: v for k, v in os.environ.items() if k not in ("FUPIN_SECRET_KEY", "FUPIN_DATABASE_URL")}
    env.update(FUPIN_VAR_DIR=str(var), FUPIN_TESTING="1")
    code = "import os; os.umask(0o022); import fupin.settings as s; print(len(s.SECRET_KEY))"
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=str(os.path.dirname(os.path.dirname(__file__))),
                         capture_output=True, text=True, check=True).stdout
    assert out == "67\n"
    assert {p.name: p.stat().st_mode & 0o777 for p in var.iterdir()} == {"fupin.sqlite3": 0o600, "secret_key": 0o600}


def test_xls_extent_is_probed_in_a_memory_limited_child():
    # calamine opens .xls and .xlsx alike; these bytes stand in for an .xls (there is no .xls writer here)
    excel._check_xls(H.package(H.sheet_xml(H.rows_xml([HEADERS, good_row()]))), "x.xls")  # within the caps
    with pytest.raises(excel.FileRejected) as refused:
        excel._check_xls(H.cell_at_the_far_corner(HEADERS), "x.xls")  # 17 billion cells: the child dies alone
    assert refused.value.message == ("“x.xls”无法在限定的内存和时间内读取（文件已损坏，或使用区域异常大）；"
                                     "请在 Excel/WPS 中打开，删除多余的行列后另存为 .xlsx 再导入")
    with pytest.raises(excel.FileRejected) as refused:
        excel._check_xls(H.package(H.sheet_xml(H.rows_xml([HEADERS]) + '<row r="9"><c r="IV9"><v>1</v></c></row>')),
                         "x.xls")
    assert refused.value.message == BEYOND.format(9, 256, "IV")


@pytest.mark.parametrize("role,url", [("school_aid", "/education/roster/"), ("county_officer", "/health/")])
def test_every_upload_view_states_the_real_limit(role, url, login, world, settings, private_var):
    settings.IMPORT_MAX_BYTES = 1024 * 1024
    n = Enrolment.objects.count()
    r = login(role).post(url, {"action": "import", "file": SimpleUploadedFile("名册.xlsx", b"PK" + b"\0" * (2 << 20))})
    assert "文件“名册.xlsx”过大（2.0 MB），单个文件不能超过 1 MB；请按乡镇或村拆分后分批上传" in r.content.decode()
    assert Enrolment.objects.count() == n and files_under(private_var.parent) == []


@pytest.mark.parametrize("chunk", [7, 4 << 20])
def test_scan_finds_far_cells_with_prefixes_lower_case_and_across_chunk_boundaries(chunk, monkeypatch):
    monkeypatch.setattr(excel, "_CHUNK", chunk)  # cells split at every possible place
    rows = H.rows_xml([["甲", 1, "乙"]] * 30)
    excel._check_xlsx(H.package(H.sheet_xml(rows)), "x.xlsx")  # within the caps: no refusal
    far = rows + '<row r="300"><x:c r="bz300"><x:v>1</x:v></x:c></row>'
    with pytest.raises(excel.FileRejected) as refused:
        excel._check_xlsx(H.package(H.sheet_xml(far)), "x.xlsx")
    assert refused.value.message == BEYOND.format(300, 78, "BZ")
    with pytest.raises(excel.FileRejected) as refused:  # a cell without a position cannot be bounded
        excel._check_xlsx(H.package(H.sheet_xml(rows + '<row r="300"><c><v>1</v></c></row>')), "x.xlsx")
    assert refused.value.message == ("工作表“户籍成员”的单元格没有写明位置（不是 Excel/WPS 保存的标准格式）；"
                                     "请在 Excel/WPS 中打开后另存为 .xlsx 再导入")


@pytest.mark.parametrize("per_part", [1, 2, 3, 10_000])
def test_sheet_read_in_parts_gives_the_same_rows(per_part, monkeypatch):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "户籍成员"
    ws.append(["花名册"])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=5)
    ws.append(HEADERS)
    for i in range(7):
        ws.append(good_row(户编号=f"N{i}", 姓名=f"人{i}"))
        if i == 3:
            ws.append([])  # an empty row between parts
    ws.cell(row=20, column=3, value=None)
    out = io.BytesIO()
    wb.save(out)
    monkeypatch.setattr(excel, "ROWS_PER_PART", per_part)
    table = excel.read_table(out.getvalue(), hx.COLUMNS, filename="x.xlsx")
    assert [(n, v["number"], v["name"]) for n, v in table.rows] == \
        [(3, "N0", "人0"), (4, "N1", "人1"), (5, "N2", "人2"), (6, "N3", "人3"), (8, "N4", "人4"),
         (9, "N5", "人5"), (10, "N6", "人6")]
    assert table.problems == [] and table.header_rows == 2


def test_table_that_starts_below_and_right_of_a1():
    body = "".join(f'<row r="{5 + i}">' + "".join(H.cell(f"{H.col_letter(3 + j)}{5 + i}", v) for j, v in enumerate(r))
                   + "</row>" for i, r in enumerate([HEADERS, good_row()]))
    table = excel.read_table(H.package(H.sheet_xml(body)), hx.COLUMNS, filename="x.xlsx")
    assert (table.header_rows, table.positions["number"], [n for n, _ in table.rows], table.problems) == (5, 2, [6], [])


def test_used_area_over_the_cell_cap(world, officer, settings, before):
    settings.IMPORT_MAX_CELLS = 1_000_000
    data = H.package(H.sheet_xml(H.rows_xml([HEADERS]) + '<row r="20000"><c r="BH20000"><v>1</v></c></row>'))
    report = household_import("used area over the cell cap", officer, data, "x.xlsx")
    assert refusal(report) == ["工作表“户籍成员”的使用区域为 20000 行 × 60 列，超过导入上限 1000000 个单元格；"
                               "请删除右侧多余的列，或按乡镇或村拆分成几个文件分批导入"]
    assert counts() == before
