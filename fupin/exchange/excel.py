"""Reading the workbooks departments really send, and writing safe ones (SPEC §13).

Reading uses python-calamine (fast, tolerant); writing uses openpyxl. Nothing here knows
about households: a Column describes how to parse one cell, and `read_table` finds the
header rows, parses every data cell and collects every error with its row and column.
"""
from __future__ import annotations

import codecs
import csv
import datetime as dt
import html
import io
import re
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from collections.abc import Mapping
from typing import Any, Callable, Iterator

from django.conf import settings
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from python_calamine import CalamineError, CalamineWorkbook, PasswordError, SheetVisibleEnum

from fupin.core import progress


class CellError(ValueError):
    """Raised by a parser: the message says what is wrong with the cell, in Chinese."""


class FileRejected(Exception):
    """The whole file cannot be read; nothing in it was looked at further."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Column:
    key: str
    header: str                       # the template's header text
    parse: Callable[[Any], Any]
    required: bool = False
    aliases: tuple[str, ...] = ()     # other headers seen in real workbooks
    note: str = ""                    # shown as a comment in the template

    def names(self) -> set[str]:
        return {_norm_header(h) for h in (self.header, *self.aliases)}


@dataclass
class Problem:
    row: int | None          # Excel row number (1-based), None for file-level problems
    column: str | None       # Excel column letter
    header: str | None
    value: Any
    message: str

    def __str__(self) -> str:
        where = f"第{self.row}行" if self.row else ""
        if self.column:
            where += f"{self.column}列（{self.header}）"
        return f"{where}：{self.message}" if where else self.message


@dataclass
class Table:
    sheet: str
    grid: list[list[Any]]                 # raw values, if given as a grid (read_table streams: empty)
    header_rows: int                      # number of rows up to and including the header
    positions: dict[str, int]             # column key → 0-based column index
    rows: list[tuple[int, dict]] = field(default_factory=list)  # (excel row, parsed values)
    problems: list[Problem] = field(default_factory=list)
    source: Callable[[], Iterator[tuple[int, list]]] | None = None  # streams the sheet again, raw


def _norm_header(text: Any) -> str:
    text = unicodedata.normalize("NFKC", str(text or ""))
    return re.sub(r"[\s*＊:：()（）\[\]【】]", "", text).lower()


def _cell_text(value: Any) -> str:
    return unicodedata.normalize("NFKC", str(value)).strip()


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# ---- cell parsers --------------------------------------------------------------------------

def text(max_len: int = 200) -> Callable[[Any], str]:
    def parse(value):
        if is_blank(value):
            return ""
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        s = _cell_text(value)
        if s[:1] == "'" and s[1:2] in _FORMULA_START:
            s = s[1:]  # our own export's guard against formula injection, undone on the way back
        if len(s) > max_len:
            raise CellError(f"内容过长（{len(s)}字），最多{max_len}字")
        return s
    return parse


def digits(length_min: int, length_max: int, what: str) -> Callable[[Any], str]:
    """A code made of digits (village code, phone, bank account) — must be text in Excel."""
    def parse(value):
        if is_blank(value):
            return ""
        if isinstance(value, float):
            if not value.is_integer() or value >= 2 ** 53:
                raise CellError(f"{what}被存成了数字（{value:.5E}），精度已丢失；请把该列设为“文本”后重新录入")
            value = int(value)
        s = "".join(_cell_text(value).split())
        if not s.isdigit() or not (length_min <= len(s) <= length_max):
            n = f"{length_min}" if length_min == length_max else f"{length_min}–{length_max}"
            raise CellError(f"{what}应为{n}位数字，实际为“{s}”")
        return s
    return parse


def choice(enum) -> Callable[[Any], str]:
    by_label = {_norm_header(label): value for value, label in enum.choices}
    by_label.update({_norm_header(value): value for value in enum.values})
    allowed = "、".join(label for _, label in enum.choices)

    seen: dict[str, str] = {}  # a column holds few distinct values: normalise each once

    def parse(value):
        if is_blank(value):
            return ""
        if isinstance(value, str) and value in seen:
            return seen[value]
        key = _norm_header(value)
        if key not in by_label:
            raise CellError(f"“{_cell_text(value)}”不是可选值；可选：{allowed}")
        if isinstance(value, str) and len(seen) < 1000:
            seen[value] = by_label[key]
        return by_label[key]
    return parse


_TRUE = {"是", "y", "yes", "true", "1", "√", "有"}
_FALSE = {"否", "n", "no", "false", "0", "×", "无"}


def boolean(value):
    if is_blank(value):
        return None
    if isinstance(value, bool):
        return value
    if value == "是":
        return True
    if value == "否":
        return False
    key = _norm_header(value)
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise CellError(f"“{_cell_text(value)}”应填“是”或“否”")


_DATE_PATTERNS = [
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})[.\-/](\d{1,2})[.\-/](\d{1,2})$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
]
_EXCEL_EPOCH = dt.date(1899, 12, 30)


def date(value):
    """Dates as Excel dates or serial numbers, 2020-01-19, 2020年1月19日, 2020.1.19, 20200119."""
    if is_blank(value):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if 19000101 <= value <= 21001231 and float(value).is_integer():
            value = str(int(value))
        elif 1 <= value < 80000:
            return _EXCEL_EPOCH + dt.timedelta(days=int(value))
        else:
            raise CellError(f"“{value}”不是日期")
    s = _cell_text(value)
    for pattern in _DATE_PATTERNS:
        m = pattern.match(s)
        if m:
            y, mo, d = (int(g) for g in m.groups())
            try:
                return dt.date(y, mo, d)
            except ValueError:
                raise CellError(f"日期“{s}”不存在") from None
    raise CellError(f"“{s}”不是可识别的日期；可写作 2020-01-19、2020年1月19日、2020.1.19 或 20200119")


def decimal(places: int, max_value: int) -> Callable[[Any], Decimal | None]:
    def parse(value):
        if is_blank(value):
            return None
        try:
            d = Decimal(str(value).strip()) if not isinstance(value, float) else Decimal(repr(value))
        except InvalidOperation:
            raise CellError(f"“{_cell_text(value)}”不是数字") from None
        if d < 0 or d > max_value:
            raise CellError(f"数值应在 0 到 {max_value} 之间")
        return d.quantize(Decimal(1).scaleb(-places))
    return parse


def integer(lo: int, hi: int) -> Callable[[Any], int | None]:
    def parse(value):
        if is_blank(value):
            return None
        try:
            f = float(_cell_text(value)) if not isinstance(value, (int, float)) else float(value)
        except ValueError:
            raise CellError(f"“{_cell_text(value)}”不是整数") from None
        if not f.is_integer() or not lo <= f <= hi:
            raise CellError(f"应为 {lo} 到 {hi} 之间的整数")
        return int(f)
    return parse


# ---- reading -------------------------------------------------------------------------------
#
# A file is checked before any reader allocates for it (issue 11 §4). An .xlsx is a zip of XML
# parts, and every number in it can lie: the declared used range, the declared sizes, the
# compression. So, before calamine sees the bytes:
#  - the archive must open, be unencrypted, carry no macros, external links or data
#    connections, and no DTD (entity expansion);
#  - declared sizes are capped (all parts, shared strings, styles) and so is each part's
#    compression ratio; every part calamine will read is inflated once here, and zipfile
#    checks its CRC and true size, so a part that lies about its size is refused as damaged;
#  - each worksheet is scanned (a regular expression over the inflated XML, in chunks) for
#    the cells that really hold a value. The declared <dimension> is ignored; a value beyond
#    IMPORT_MAX_ROWS / IMPORT_MAX_COLS, or a used area over IMPORT_MAX_CELLS, refuses the file
#    with the sheet and the limit named. calamine stores a sheet as a dense grid of its used
#    area (32 bytes a cell), so this bound is what keeps memory bounded.
# Rows are then streamed (calamine's iter_rows) and only parsed values are kept; the error
# workbook streams the sheet again. Formulas are never evaluated: calamine returns the value
# Excel cached when it saved the file, or nothing.

XLSX_MAGIC, XLS_MAGIC = b"PK\x03\x04", b"\xd0\xcf\x11\xe0"
HEADER_ROWS = 11            # the header is looked for in the first 10 rows (one row more for two-row headers)
_CHUNK = 1 << 22
_REFUSE_DAMAGED = ("“{name}”已损坏或不完整（可能只上传了一部分），无法读取；"
                   "请在 Excel/WPS 中打开它，另存为 .xlsx 后重新上传")


def _mb(n: int) -> str:
    return f"{n / 1048576:.0f} MB" if n >= 1048576 else f"{n / 1024:.0f} KB"


def _limit_rows() -> str:
    return f"最多 {settings.IMPORT_MAX_ROWS} 行、{settings.IMPORT_MAX_COLS} 列、{settings.IMPORT_MAX_CELLS} 个单元格"


def _kind(data: bytes, filename: str) -> str:
    name = filename or "上传的文件"
    if len(data) > settings.IMPORT_MAX_BYTES:
        raise FileRejected(
            f"文件过大（{len(data) / 1048576:.1f} MB），单个文件不能超过 "
            f"{settings.IMPORT_MAX_BYTES / 1048576:g} MB；请按乡镇或村拆分后分批导入")
    if not data:
        raise FileRejected(f"“{name}”是空文件（0 字节）；请确认选对了文件，在 Excel/WPS 中保存后重新上传")
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if data.startswith(XLS_MAGIC):
        if _looks_encrypted(data):
            raise FileRejected(f"“{name}”设有打开密码（已加密），系统无法读取；"
                               "请在 Excel/WPS 中取消密码（文件→信息→保护工作簿）后另存为 .xlsx 再导入")
        return "xls"
    if data.startswith(XLSX_MAGIC) or data.startswith(b"PK\x05\x06"):
        if ext in ("xlsm", "xltm", "xlam"):
            raise FileRejected(_MACRO.format(name=name))
        if ext == "xlsb":
            raise FileRejected(f"“{name}”是二进制工作簿（.xlsb），不能导入；请在 Excel 中另存为“Excel 工作簿（*.xlsx）”后再导入")
        return "xlsx"
    if ext in ("csv", "txt"):
        return "csv"
    if ext in ("xlsx", "xls", "xlsm"):
        what = "文本文件" if _is_text(data) else "其他类型的文件"
        raise FileRejected(f"“{name}”的扩展名是 .{ext}，但内容不是 Excel 工作簿（像是{what}被改了扩展名）；"
                           "请在 Excel/WPS 中打开原始数据，另存为 .xlsx 后再导入")
    raise FileRejected(f"“{name}”不是 Excel 文件（.xlsx 或 .xls）或 CSV 文件；"
                       "如是 WPS 或其他格式，请先在 Excel/WPS 中另存为 .xlsx")


def _is_text(data: bytes) -> bool:
    head = data[:4096]
    return b"\0" not in head or head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))


def _looks_encrypted(data: bytes) -> bool:
    # A password-protected .xlsx is an OLE container holding these two streams (MS-OFFCRYPTO).
    return "EncryptedPackage".encode("utf-16-le") in data[:1 << 20] and "EncryptionInfo".encode("utf-16-le") in data[:1 << 20]


_MACRO = ("“{name}”含有宏（VBA 代码），为安全起见不予导入；"
          "请在 Excel/WPS 中另存为“Excel 工作簿（*.xlsx）”（不含宏）后再导入")
_EXTERNAL = ("“{name}”含有外部链接或数据连接（从其他文件或网址取数），为安全起见不予导入；"
             "请在 Excel 中“数据→编辑链接→断开链接”，或把数据“选择性粘贴→数值”到新工作簿，另存为 .xlsx 后再导入")
_BLOAT = ("“{name}”中的{part}解压后过大（{size}，上限 {limit}），多为被其他软件写入了大量无用内容；"
          "请在 Excel/WPS 中新建工作簿，只把需要的数据“选择性粘贴→数值”过去，另存为 .xlsx 后再导入")
_DTD = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.I)
# A cell that holds something: a start tag with a reference, not self-closing, followed by a value.
# (A namespace prefix such as <x:c> is allowed, as calamine reads it; so are lower-case letters.)
_VALUED_CELL = re.compile(rb'<(?:\w+:)?c\s[^>]*?\br=["\']([A-Za-z]{1,3})([0-9]{1,7})["\'][^>]*?(?<!/)>\s*'
                          rb'<(?:\w+:)?(?:v|is|f)\b')
_CELL_WITHOUT_REF = re.compile(rb'<(?:\w+:)?c(?=[\s/>])(?![^>]*\br=)[^>]*>')
_ATTR = re.compile(r'([\w:]+)="([^"]*)"')


@dataclass
class _SheetInfo:
    name: str
    hidden: bool
    path: str = ""                                     # the worksheet's part in the zip
    merged: list = field(default_factory=list)         # merged ranges in the header rows, 0-based


def _col_number(letters: bytes | str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ((ch if isinstance(ch, int) else ord(ch)) - 64)
    return n


def _check_xlsx(data: bytes, filename: str) -> list[_SheetInfo]:
    """Every check that needs no reader: see the comment at the top of this section."""
    name = filename or "上传的文件"
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
        infos = z.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError):
        raise FileRejected(_REFUSE_DAMAGED.format(name=name)) from None
    if len(infos) > 5000:
        raise FileRejected(f"“{name}”中有 {len(infos)} 个部件，不像正常的 Excel 工作簿；请另存为 .xlsx 后再导入")
    by_name = {i.filename.lower(): i for i in infos}
    if any(i.flag_bits & 0x1 for i in infos):
        raise FileRejected(f"“{name}”设有密码（已加密），系统无法读取；请取消密码后另存为 .xlsx 再导入")
    if any(n.endswith("vbaproject.bin") or n.endswith(".bin") and "vba" in n for n in by_name):
        raise FileRejected(_MACRO.format(name=name))
    if any(n.startswith(("xl/externallinks/", "xl/querytables/")) or n == "xl/connections.xml" for n in by_name):
        raise FileRejected(_EXTERNAL.format(name=name))
    if "xl/workbook.bin" in by_name:
        raise FileRejected(f"“{name}”是二进制工作簿（.xlsb），不能导入；请在 Excel 中另存为“Excel 工作簿（*.xlsx）”后再导入")
    if "xl/workbook.xml" not in by_name:
        raise FileRejected(f"“{name}”是一个压缩包，但不是 Excel 工作簿（可能是 Word、WPS 文档或 zip 文件改了扩展名）；"
                           "请上传 .xlsx 文件")
    sst = by_name.get("xl/sharedstrings.xml")
    if sst is not None and sst.file_size > settings.IMPORT_MAX_SHARED_STRINGS_BYTES:
        raise FileRejected(_BLOAT.format(name=name, part="共享字符串表", size=_mb(sst.file_size),
                                         limit=_mb(settings.IMPORT_MAX_SHARED_STRINGS_BYTES)))
    styles = by_name.get("xl/styles.xml")
    if styles is not None and styles.file_size > settings.IMPORT_MAX_STYLES_BYTES:
        raise FileRejected(_BLOAT.format(name=name, part="样式表", size=_mb(styles.file_size),
                                         limit=_mb(settings.IMPORT_MAX_STYLES_BYTES)))
    for i in infos:
        if i.file_size > 1048576 and i.file_size > settings.IMPORT_MAX_ZIP_RATIO * max(i.compress_size, 1):
            raise FileRejected(
                f"“{name}”的压缩比异常（部件 {i.filename} 从 {_mb(i.compress_size)} 解压为 {_mb(i.file_size)}，"
                f"超过 {settings.IMPORT_MAX_ZIP_RATIO} 倍），可能是“压缩炸弹”，不予导入；"
                "请在 Excel/WPS 中打开原始数据，另存为 .xlsx 后再导入")
    total = sum(i.file_size for i in infos)
    if total > settings.IMPORT_MAX_UNZIPPED_BYTES:
        raise FileRejected(_BLOAT.format(name=name, part="内容", size=_mb(total),
                                         limit=_mb(settings.IMPORT_MAX_UNZIPPED_BYTES)))

    def read_small(info, limit=10 * 1048576) -> str:
        if info.file_size > limit:
            raise FileRejected(_BLOAT.format(name=name, part=info.filename, size=_mb(info.file_size), limit=_mb(limit)))
        raw = z.read(info)
        if _DTD.search(raw):
            raise FileRejected(_REFUSE_DAMAGED.format(name=name))
        return raw.decode("utf-8", "replace")

    try:
        ct = by_name.get("[content_types].xml")
        if ct is not None and "macroenabled" in read_small(ct).lower():
            raise FileRejected(_MACRO.format(name=name))
        workbook = read_small(by_name["xl/workbook.xml"])
        if "<externalReference" in workbook or "<externalReferences" in workbook:
            raise FileRejected(_EXTERNAL.format(name=name))
        rels_info = by_name.get("xl/_rels/workbook.xml.rels")
        rels = read_small(rels_info) if rels_info is not None else ""
        targets = {}
        for m in re.finditer(r"<Relationship\b[^>]*>", rels):
            attrs = dict(_ATTR.findall(m.group(0)))
            if attrs.get("TargetMode", "").lower() == "external" or "vbaProject" in attrs.get("Type", ""):
                raise FileRejected((_MACRO if "vba" in attrs.get("Type", "").lower() else _EXTERNAL).format(name=name))
            targets[attrs.get("Id")] = attrs.get("Target", "")
        sheets = []
        for m in re.finditer(r"<(?:\w+:)?sheet\b[^>]*>", workbook):
            attrs = dict(_ATTR.findall(m.group(0)))
            rid = next((v for k, v in attrs.items() if k.endswith(":id")), None)
            target = targets.get(rid, "").lstrip("/")
            path = target if target.startswith("xl/") else f"xl/{target}"
            sheets.append(_SheetInfo(html.unescape(attrs.get("name", "")), attrs.get("state", "visible") != "visible",
                                     path.lower()))
        if styles is not None:
            _check_styles(read_small(styles, settings.IMPORT_MAX_STYLES_BYTES), name)
        if sst is not None:
            count = 0
            for chunk in _inflate(z, sst, name):
                count += chunk.count(b"<si>") + chunk.count(b"<si ")
            if count > settings.IMPORT_MAX_SHARED_STRINGS:
                raise FileRejected(_BLOAT.format(name=name, part="共享字符串表", size=f"{count} 项",
                                                 limit=f"{settings.IMPORT_MAX_SHARED_STRINGS} 项"))
        found = []
        for sheet in sheets:
            info = by_name.get(sheet.path)
            if info is not None:
                sheet.path = info.filename
                sheet.merged = _scan_sheet(z, info, sheet.name, name)
                found.append(sheet)
        return found
    except zipfile.BadZipFile:
        raise FileRejected(_REFUSE_DAMAGED.format(name=name)) from None
    except (zlib.error, EOFError, OSError, NotImplementedError):
        raise FileRejected(_REFUSE_DAMAGED.format(name=name)) from None


def _inflate(z: zipfile.ZipFile, info: zipfile.ZipInfo, name: str):
    """Yield a part's bytes in chunks; refuse a DTD. zipfile stops at the declared size and checks the CRC."""
    tail = b""
    with z.open(info) as f:
        while True:
            chunk = f.read(_CHUNK)
            if not chunk:
                break
            if _DTD.search(tail + chunk[:16]) or _DTD.search(chunk):
                raise FileRejected(_REFUSE_DAMAGED.format(name=name))
            tail = chunk[-16:]
            yield chunk


def _scan_sheet(z: zipfile.ZipFile, info: zipfile.ZipInfo, sheet: str, name: str) -> None:
    """Find the last row and column that hold a value; refuse the file if they exceed the caps."""
    max_row = max_col = 0
    carry = b""
    merged = []
    for chunk in _inflate(z, info, name):
        buf = carry + chunk
        cut = _last_cell_start(buf)  # every cell before it is complete; the last one waits for more
        body, carry = buf[:cut], buf[cut:]
        if len(carry) > (4 << 20):  # one cell of megabytes: Excel allows 32767 characters
            raise FileRejected(f"工作表“{sheet}”中有单元格内容超过 Excel 的上限（32767 字），文件不正常；请检查后另存为 .xlsx 再导入")
        _check_refs(body, sheet)
        _merges(body, merged)
        found = _VALUED_CELL.findall(body)
        if found:
            max_row = max(max_row, max(int(r) for _, r in found))
            letters = {c for c, _ in found}
            max_col = max(max_col, max(_col_number(c) for c in letters))
    if carry:
        _check_refs(carry, sheet)
        for c, r in _VALUED_CELL.findall(carry):
            max_row, max_col = max(max_row, int(r)), max(max_col, _col_number(c))
        _merges(carry, merged)
    _check_bounds(sheet, max_row, max_col)
    return merged


_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\s[^>]*?ref=["\']([A-Za-z]{1,3})([0-9]{1,7}):([A-Za-z]{1,3})([0-9]{1,7})["\']')


def _merges(body: bytes, out: list) -> None:
    """Merged ranges that start in the header rows (only those are filled), 0-based like calamine's."""
    for c0, r0, c1, r1 in _MERGE.findall(body):
        if int(r0) <= HEADER_ROWS and len(out) < 10000:
            out.append(((int(r0) - 1, _col_number(c0) - 1),
                        (min(int(r1), HEADER_ROWS) - 1, min(_col_number(c1), settings.IMPORT_MAX_COLS) - 1)))


_CELL_START = re.compile(rb'<(?:\w+:)?c[\s/>]')


def _last_cell_start(buf: bytes) -> int:
    for window in (1 << 16, len(buf)):
        last = None
        for last in _CELL_START.finditer(buf, max(0, len(buf) - window)):
            pass
        if last is not None:
            return last.start()
    last = buf.rfind(b"<")  # no cell here: keep a tag cut by the chunk boundary for the next round
    return last if last > 0 else len(buf)


def _check_refs(body: bytes, sheet: str) -> None:
    if _CELL_WITHOUT_REF.search(body):
        raise FileRejected(f"工作表“{sheet}”的单元格没有写明位置（不是 Excel/WPS 保存的标准格式）；"
                           "请在 Excel/WPS 中打开后另存为 .xlsx 再导入")


def _check_bounds(sheet: str, max_row: int, max_col: int) -> None:
    if max_row > settings.IMPORT_MAX_ROWS or max_col > settings.IMPORT_MAX_COLS:
        raise FileRejected(
            f"工作表“{sheet}”的内容延伸到第 {max_row} 行、第 {max_col} 列"
            f"{f'（{get_column_letter(max_col)} 列）' if max_col <= 16384 else ''}，"
            f"超过导入上限（每个工作表最多 {settings.IMPORT_MAX_ROWS} 行、{settings.IMPORT_MAX_COLS} 列）；"
            "请删除表格下方和右侧多余的内容（整行、整列删除），数据多时按乡镇或村拆分成几个文件分批导入")
    if max_row * max_col > settings.IMPORT_MAX_CELLS:
        raise FileRejected(
            f"工作表“{sheet}”的使用区域为 {max_row} 行 × {max_col} 列，超过导入上限 {settings.IMPORT_MAX_CELLS} 个单元格；"
            "请删除右侧多余的列，或按乡镇或村拆分成几个文件分批导入")


def _check_styles(xml: str, name: str) -> None:
    """Count cell formats and the nesting depth with expat (the part is capped in size already)."""
    from xml.parsers import expat

    state = {"depth": 0, "max": 0, "xf": 0}

    def start(tag, attrs):
        state["depth"] += 1
        state["max"] = max(state["max"], state["depth"])
        if tag.rsplit(":", 1)[-1] == "xf":
            state["xf"] += 1

    def end(tag):
        state["depth"] -= 1

    parser = expat.ParserCreate()
    parser.StartElementHandler, parser.EndElementHandler = start, end
    try:
        parser.Parse(xml, True)
    except expat.ExpatError:
        raise FileRejected(_REFUSE_DAMAGED.format(name=name)) from None
    if state["max"] > 64 or state["xf"] > settings.IMPORT_MAX_STYLES:
        what = f"嵌套 {state['max']} 层" if state["max"] > 64 else f"{state['xf']} 种单元格格式（Excel 最多 {settings.IMPORT_MAX_STYLES} 种）"
        raise FileRejected(f"“{name}”的样式表不正常（{what}），多为被其他软件反复复制格式所致；"
                           "请在 Excel/WPS 中新建工作簿，把数据“选择性粘贴→数值”过去，另存为 .xlsx 后再导入")


# ---- CSV ------------------------------------------------------------------------------------

_GB = {"gb18030", "gbk", "gb2312", "cp936", "hz"}


def _decode_csv(data: bytes, filename: str) -> str:
    name = filename or "上传的文件"
    hint = "请用 Excel/WPS 另存为“CSV UTF-8（逗号分隔）”或 .xlsx 后再导入"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FileRejected(f"“{name}”的编码是 UTF-16（Unicode 文本），不能导入；{hint}")
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[3:].decode("utf-8")
        except UnicodeDecodeError:
            raise FileRejected(f"“{name}”标明是 UTF-8 编码，但其中有不是 UTF-8 的字节（文件已损坏或混用了编码）；{hint}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    import charset_normalizer

    best = charset_normalizer.from_bytes(data[:1 << 20]).best()
    encoding = (best.encoding if best else "").lower()
    if encoding in _GB:
        try:
            return data.decode("gb18030")
        except UnicodeDecodeError:
            pass
    shown = {"big5": "Big5（繁体）", "utf_16_le": "UTF-16", "utf_16_be": "UTF-16", "shift_jis": "Shift_JIS（日文）",
             "cp949": "EUC-KR（韩文）", "euc_kr": "EUC-KR（韩文）"}.get(encoding, encoding or "无法识别")
    raise FileRejected(f"“{name}”的编码是 {shown}，不是 UTF-8 或 GBK/GB18030，中文会成乱码，不能导入；{hint}")


def _csv_rows(text: str, sheet: str) -> Iterator[tuple[int, list]]:
    for number, raw in enumerate(csv.reader(io.StringIO(text)), start=1):
        while raw and not raw[-1].strip():
            raw.pop()
        if number > settings.IMPORT_MAX_ROWS or len(raw) > settings.IMPORT_MAX_COLS:
            _check_bounds(sheet, number, len(raw))
        yield number, raw


# ---- sources: one way to stream the rows of every sheet, whatever the format ----------------

@dataclass
class _Source:
    sheets: list[_SheetInfo]
    rows: Callable[[str], Iterator[tuple[int, list]]]   # sheet name → (Excel row number, values)
    merged: Callable[[str], list]
    release: Callable[[], None] = lambda: None          # drop the reader's copy of the sheet


def _open_source(data: bytes, filename: str) -> _Source:
    kind = _kind(data, filename)
    name = filename or "上传的文件"
    if kind == "csv":
        text = _decode_csv(data, filename)
        sheet = filename.rsplit("/", 1)[-1] or "CSV"
        return _Source([_SheetInfo(sheet, False)], lambda _s: _csv_rows(text, sheet), lambda _s: [])
    if kind == "xlsx":
        return _xlsx_source(data, name, _check_xlsx(data, filename))
    _check_xls(data, filename)
    state = {"wb": _calamine(data, name)}
    sheets = [_SheetInfo(m.name, m.visible != SheetVisibleEnum.Visible) for m in state["wb"].sheets_metadata]
    loaded: dict[str, Any] = {}

    def release():
        loaded.clear()
        state["wb"] = None

    def sheet(sheet_name):
        if sheet_name not in loaded:
            loaded.clear()  # one sheet in memory at a time
            try:
                if state["wb"] is None:
                    state["wb"] = _calamine(data, name)
                loaded[sheet_name] = state["wb"].get_sheet_by_name(sheet_name)
            except (CalamineError, Exception):
                raise FileRejected(f"工作表“{sheet_name}”已损坏，无法读取；请在 Excel/WPS 中打开并另存为 .xlsx 后再试") from None
        return loaded[sheet_name]

    def rows(sheet_name):
        s = sheet(sheet_name)
        start = s.start
        if start is None:
            return
        c0 = start[1]
        pad = [None] * c0
        for number, raw in enumerate(s.iter_rows(), start=1):  # iter_rows starts at row 1, at column c0
            yield number, (pad + raw if c0 else raw)

    return _Source(sheets, rows, lambda sheet_name: sheet(sheet_name).merged_cell_ranges or [], release)


# An .xlsx sheet is handed to calamine in parts of ROWS_PER_PART rows: each part is a small
# workbook (stored, not compressed) with the sheet's head, those rows, and the parts calamine needs
# (workbook, relationships, shared strings, styles). calamine keeps a sheet as a dense grid, so
# this bounds what it holds at once, whatever the number of rows; cell types, dates and shared
# strings stay calamine's business.
ROWS_PER_PART = 10_000
_ROW_START = re.compile(rb'<(?:\w+:)?row[\s>/]')
_SHEETDATA = re.compile(rb'<((?:\w+:)?sheetData)\b[^>]*?(/?)>')
_END_SHEETDATA = re.compile(rb'</(?:\w+:)?sheetData>')
_ROOT = re.compile(rb'<((?:\w+:)?worksheet)\b')
_NEEDED = ("[content_types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
           "xl/sharedstrings.xml", "xl/styles.xml")


def _xlsx_source(data: bytes, name: str, sheets: list[_SheetInfo]) -> _Source:
    z = zipfile.ZipFile(io.BytesIO(data))
    index = {s.name: i for i, s in enumerate(sheets)}
    shared: dict[str, bytes] = {}

    def part_workbook(sheet: _SheetInfo, xml: bytes) -> bytes:
        if not shared:
            for info in z.infolist():
                if info.filename.lower() in _NEEDED:
                    shared[info.filename] = z.read(info)
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as w:
            for part, raw in shared.items():
                w.writestr(part, raw)
            for other in sheets:
                w.writestr(other.path, xml if other is sheet else _EMPTY_SHEET)
        return out.getvalue()

    def rows(sheet_name):
        sheet = sheets[index[sheet_name]]
        for xml in _sheet_parts(z, z.getinfo(sheet.path), name):
            try:
                wb = CalamineWorkbook.from_filelike(io.BytesIO(part_workbook(sheet, xml)))
                s = wb.get_sheet_by_index(index[sheet_name])
            except (CalamineError, Exception):
                raise FileRejected(f"工作表“{sheet_name}”已损坏，无法读取；请在 Excel/WPS 中打开并另存为 .xlsx 后再试") from None
            del xml
            start = s.start
            if start is None:
                continue
            r0, c0 = start
            pad = [None] * c0
            grid = s.to_python(skip_empty_area=True)  # this part's rows only (≤ ROWS_PER_PART), from (r0, c0)
            del s, wb
            for number, raw in enumerate(grid, start=r0 + 1):
                yield number, (pad + raw if c0 else raw)

    return _Source(sheets, rows, lambda sheet_name: sheets[index[sheet_name]].merged, shared.clear)


_EMPTY_SHEET = (b'<?xml version="1.0" encoding="UTF-8"?><worksheet '
                b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData/></worksheet>')


def _sheet_parts(z: zipfile.ZipFile, info: zipfile.ZipInfo, name: str):
    """The worksheet cut into complete worksheets of at most ROWS_PER_PART rows each."""
    chunks = _inflate(z, info, name)
    buf = b""
    for chunk in chunks:
        buf += chunk
        m = _SHEETDATA.search(buf)
        if m:
            break
        if len(buf) > (16 << 20):
            raise FileRejected(_REFUSE_DAMAGED.format(name=name))
    else:
        return
    if m.group(2) == b"/":
        return  # <sheetData/>: no rows
    root = _ROOT.search(buf, 0, m.start())
    head = buf[:m.start()] + b"<" + m.group(1) + b">"
    foot = b"</" + m.group(1) + b"></" + (root.group(1) if root else b"worksheet") + b">"
    buf = buf[m.end():]
    rows, scanned, done = 0, 0, False
    while True:
        end = _END_SHEETDATA.search(buf, max(0, scanned - 32))
        limit = end.start() if end else len(buf)
        cut = None
        for r in _ROW_START.finditer(buf, scanned, limit):
            rows += 1
            if rows > ROWS_PER_PART:
                cut = r.start()
                break
        if cut is not None:
            yield head + buf[:cut] + foot
            buf, rows, scanned = buf[cut:], 0, 0
            continue
        if end is not None:
            if buf[:end.start()].strip():
                yield head + buf[:end.start()] + foot
            done = True
            break
        scanned = max(0, len(buf) - 32)  # a row tag cut by the chunk boundary is looked at again
        rows -= len(_ROW_START.findall(buf, scanned))  # …and not counted twice
        nxt = next(chunks, None)
        if nxt is None:
            break
        buf += nxt
    if not done and buf.strip():
        yield head + buf + foot
    for _ in chunks:  # let zipfile read to the end and check the CRC
        pass


# An .xls (BIFF8 in an OLE container) cannot be scanned as cheaply as XML, and calamine sizes a
# sheet by its farthest cell (65536 × 256 cells at most: 540 MB). So an .xls is first opened in a
# separate process with a hard memory limit, which only reports each sheet's extent; the worker
# opens it only if every sheet is within the caps. If the child runs out of memory, it dies alone.
_XLS_PROBE = """
import io, json, resource, sys
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
from python_calamine import CalamineWorkbook
wb = CalamineWorkbook.from_filelike(io.BytesIO(sys.stdin.buffer.read()))
out = []
for name in wb.sheet_names:
    s = wb.get_sheet_by_name(name)
    end = s.end or (-1, -1)
    out.append([name, end[0] + 1, end[1] + 1])
    del s
print(json.dumps(out))
"""


def _check_xls(data: bytes, filename: str, *, memory_mb: int = 700) -> None:
    import json
    import subprocess
    import sys

    name = filename or "上传的文件"
    try:
        done = subprocess.run([sys.executable, "-c", _XLS_PROBE, str(memory_mb << 20)], input=data,
                              capture_output=True, timeout=60)
        sheets = json.loads(done.stdout) if done.returncode == 0 else None
    except (subprocess.TimeoutExpired, ValueError, OSError):
        sheets = None
    if sheets is None:
        raise FileRejected(f"“{name}”无法在限定的内存和时间内读取（文件已损坏，或使用区域异常大）；"
                           "请在 Excel/WPS 中打开，删除多余的行列后另存为 .xlsx 再导入")
    for sheet, rows, cols in sheets:
        _check_bounds(sheet, rows, cols)


def _calamine(data: bytes, name: str) -> CalamineWorkbook:
    try:
        return CalamineWorkbook.from_filelike(io.BytesIO(data))
    except PasswordError:
        raise FileRejected(f"“{name}”设有打开密码（已加密），系统无法读取；请取消密码后另存为 .xlsx 再导入") from None
    except (CalamineError, Exception):  # calamine raises several unrelated types
        raise FileRejected(_REFUSE_DAMAGED.format(name=name)) from None


def open_workbook(data: bytes, filename: str = "") -> CalamineWorkbook:
    """Checks the file as `read_table` does and returns the calamine workbook (.xlsx/.xls only)."""
    kind = _kind(data, filename)
    if kind == "csv":
        raise FileRejected(f"“{filename}”是 CSV 文件，此处只能读取 Excel 工作簿；请另存为 .xlsx")
    if kind == "xlsx":
        _check_xlsx(data, filename)
    else:
        _check_xls(data, filename)
    return _calamine(data, filename or "上传的文件")


def _fill_merged(grid: list[list[Any]], merged) -> None:
    for (r0, c0), (r1, c1) in merged or []:
        if r0 >= len(grid):
            continue
        top = grid[r0][c0] if c0 < len(grid[r0]) else None
        for r in range(r0, min(r1, 10) + 1):
            if r >= len(grid):
                break
            for c in range(c0, min(c1 + 1, len(grid[r]))):
                if is_blank(grid[r][c]):
                    grid[r][c] = top


def _find_header(grid, columns: list[Column]) -> tuple[int, dict[str, int]] | None:
    """Look in the first 10 rows for the header; a header may span two rows (merged cells)."""
    best = None
    wanted = {c.key: c.names() for c in columns}
    for r in range(min(10, len(grid))):
        for span in (1, 2):
            if r + span > len(grid):
                continue
            width = min(max(len(grid[i]) for i in range(r, r + span)), settings.IMPORT_MAX_COLS)
            positions = {}
            for col in range(width):
                parts = [grid[i][col] if col < len(grid[i]) else None for i in range(r, r + span)]
                candidates = {_norm_header(p) for p in parts if not is_blank(p)}
                candidates.add(_norm_header("".join(str(p) for p in parts if not is_blank(p))))
                for key, names in wanted.items():
                    if key not in positions and candidates & names:
                        positions[key] = col
                        break
            if best is None or len(positions) > len(best[1]):
                best = (r + span, positions)
    return best


def _head(source: _Source, sheet: str) -> list[list[Any]]:
    """The first HEADER_ROWS rows of a sheet, by Excel position, with merged header cells filled."""
    head: list[list[Any]] = []
    for number, raw in source.rows(sheet):
        if number > HEADER_ROWS:
            break
        while len(head) < number - 1:
            head.append([])
        head.append(list(raw[:settings.IMPORT_MAX_COLS]))
    _fill_merged(head, source.merged(sheet))
    return head


def read_table(data: bytes, columns: list[Column], *, filename: str = "") -> Table:
    """Find the sheet and header that match `columns`, then parse every data row, streaming."""
    source = _open_source(data, filename)
    required = [c for c in columns if c.required]
    candidates = []
    for info in source.sheets:
        head = _head(source, info.name)
        found = _find_header(head, columns)
        if found:
            candidates.append((sum(c.key in found[1] for c in required), not info.hidden, info.name, head, found))
    if not candidates:
        raise FileRejected("工作簿中没有工作表")
    candidates.sort(key=lambda t: (t[0], t[1]), reverse=True)
    matched, _, name, head, (header_rows, positions) = candidates[0]
    missing = [c.header for c in required if c.key not in positions]
    if missing:
        raise FileRejected(
            f"这不是本系统的导入模板：工作表“{name}”缺少必需的列 {'、'.join(missing)}。"
            "请从“下载模板”获取模板，把数据粘贴进去后再导入")
    table = Table(sheet=name, grid=[], header_rows=header_rows, positions=positions,
                  source=lambda: source.rows(name))
    keys = {col.key: i for i, col in enumerate(columns)}
    for number, raw in source.rows(name):
        if number % 1000 == 0:
            progress.report(number, 0, "读取文件")
        if number <= header_rows:
            continue
        if number <= len(head):
            raw = head[number - 1]  # merged cells in the first rows were filled
        if all(is_blank(v) for v in raw):
            continue  # empty rows (trailing or in between) are not data
        values = []
        for col in columns:
            idx = positions.get(col.key)
            value = raw[idx] if idx is not None and idx < len(raw) else None
            if col.required and is_blank(value):
                table.problems.append(Problem(number, _letter(idx), col.header, value, "必填项为空"))
                values.append(_MISSING)
                continue
            try:
                values.append(col.parse(value))
            except CellError as exc:
                table.problems.append(Problem(number, _letter(idx), col.header, value, str(exc)))
                values.append(_MISSING)
        table.rows.append((number, Row(keys, tuple(values))))
    source.release()  # the reader's grid is not needed while the importer checks the rows
    if not table.rows:
        table.problems.append(Problem(None, None, None, None, f"工作表“{name}”表头下面没有数据行"))
    return table


_MISSING = object()


class Row(Mapping):
    """One parsed data row, read like a dict: column key → value; a cell that failed to parse is
    absent. A tuple behind shared keys takes a third of a dict's memory (100000 rows: ~85 MB less)."""

    __slots__ = ("_keys", "_values")

    def __init__(self, keys: dict[str, int], values: tuple):
        self._keys, self._values = keys, values

    def __getitem__(self, key):
        value = self._values[self._keys[key]]
        if value is _MISSING:
            raise KeyError(key)
        return value

    def __iter__(self):
        return (k for k, i in self._keys.items() if self._values[i] is not _MISSING)

    # Mapping's own get/__contains__ go through __getitem__ and a KeyError: the importer asks
    # a few million times per county file
    def get(self, key, default=None):
        i = self._keys.get(key)
        if i is None:
            return default
        value = self._values[i]
        return default if value is _MISSING else value

    def __contains__(self, key):
        i = self._keys.get(key)
        return i is not None and self._values[i] is not _MISSING

    def __len__(self):
        return sum(v is not _MISSING for v in self._values)

    def __repr__(self):
        return repr(dict(self))


def _letter(idx: int | None) -> str | None:
    return get_column_letter(idx + 1) if idx is not None else None


# ---- writing -------------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe(value: Any) -> Any:
    """Neutralise formula injection: text that Excel would run as a formula gets a leading '."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


HEADER_FONT = Font(bold=True)
BAD_FILL = PatternFill("solid", fgColor="FFC7CE")


def write_sheet(ws, headers: list[str], rows, *, widths: dict[int, int] | None = None) -> None:
    ws.append(headers)
    for row in rows:
        ws.append([safe(v) for v in row])


def error_workbook(table_or_grid, problems: list[Problem]) -> bytes:
    """A copy of the uploaded data with each bad cell marked, plus a list of all problems.

    Written as a stream (openpyxl write-only): the sheet is read again row by row and only
    the used cells are copied, each row cut after its last value, within the same row and
    column caps as the import. Memory does not grow with the sheet.
    """
    wb = Workbook(write_only=True)
    ws_list = wb.create_sheet("错误清单")
    ws_list.column_dimensions["E"].width = 80
    ws_list.append([_styled(ws_list, h, font=HEADER_FONT) for h in ("行号", "列", "列名", "原值", "错误原因")])
    for p in problems:
        ws_list.append([p.row, p.column, p.header, safe(_show(p.value)), p.message])
    if isinstance(table_or_grid, Table):
        rows = table_or_grid.source() if table_or_grid.source else enumerate(table_or_grid.grid, start=1)
    else:
        rows = enumerate(table_or_grid or [], start=1)
    marks: dict[int, dict[int, str]] = {}
    for p in problems:
        if p.row and p.column:
            marks.setdefault(p.row, {}).setdefault(_col_number(p.column), p.message)
    ws = None
    written = comments = 0
    for number, raw in rows:
        if number > settings.IMPORT_MAX_ROWS:
            break
        if ws is None:
            ws = wb.create_sheet("原数据（已标出错误）")
        values = list(raw[:settings.IMPORT_MAX_COLS])
        while values and is_blank(values[-1]):
            values.pop()
        bad = marks.get(number, {})
        if bad:
            values += [None] * (max(bad) - len(values))
        while written < number - 1:
            ws.append([])
            written += 1
        cells = []
        for col, v in enumerate(values, start=1):
            shown = safe(_show(v))
            if col in bad:
                cell = _styled(ws, shown, fill=BAD_FILL)
                if comments < 5000:  # comments are heavy; every problem is in the list sheet anyway
                    cell.comment = Comment(bad[col], "fupin")
                    comments += 1
                cells.append(cell)
            else:
                cells.append(shown)
        ws.append(cells)
        written += 1
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


MONEY_FORMAT = "#,##0.00"


def money_cell(ws, fen: int) -> WriteOnlyCell:
    """An amount as a number of yuan (exact Decimal, so sums in Excel are right) shown as 1,234.56:
    a payment list is added up, so its amounts are never text."""
    cell = WriteOnlyCell(ws, value=Decimal(int(fen)).scaleb(-2))
    cell.number_format = MONEY_FORMAT
    return cell


def _styled(ws, value, *, font=None, fill=None) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=value)
    if font is not None:
        cell.font = font
    if fill is not None:
        cell.fill = fill
    return cell


def _show(value: Any) -> Any:
    if isinstance(value, float):
        return f"{value:.5E}" if value >= 1e15 else value
    if isinstance(value, (dt.date, dt.datetime, dt.time, dt.timedelta)):
        return str(value)
    return value


@dataclass
class ImportReport:
    """An all-or-nothing register import (villages, schools, public-health figures): rows created,
    updated and left unchanged, or the problems and their error workbook."""
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    error_workbook: bytes | None = None

    @property
    def ok(self):
        return not self.problems
