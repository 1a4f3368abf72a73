"""Reading the workbooks departments really send, and writing safe ones (SPEC §13).

Reading uses python-calamine (fast, tolerant); writing uses openpyxl. Nothing here knows
about households: a Column describes how to parse one cell, and `read_table` finds the
header rows, parses every data cell and collects every error with its row and column.
"""
from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

from django.conf import settings
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from python_calamine import CalamineError, CalamineWorkbook, SheetVisibleEnum


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
    grid: list[list[Any]]                 # raw values, as read
    header_rows: int                      # number of rows up to and including the header
    positions: dict[str, int]             # column key → 0-based column index
    rows: list[tuple[int, dict]] = field(default_factory=list)  # (excel row, parsed values)
    problems: list[Problem] = field(default_factory=list)


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

XLSX_MAGIC, XLS_MAGIC = b"PK\x03\x04", b"\xd0\xcf\x11\xe0"


def open_workbook(data: bytes, filename: str = "") -> CalamineWorkbook:
    if len(data) > settings.IMPORT_MAX_BYTES:
        raise FileRejected(
            f"文件过大（{len(data) / 1048576:.1f} MB），单个文件不能超过 "
            f"{settings.IMPORT_MAX_BYTES // 1048576} MB；请按乡镇或村拆分后分批导入")
    if not data:
        raise FileRejected("文件是空的")
    if not (data.startswith(XLSX_MAGIC) or data.startswith(XLS_MAGIC)):
        raise FileRejected(f"“{filename or '上传的文件'}”不是 Excel 文件（.xlsx 或 .xls）；"
                           "如是 CSV 或 WPS 文件，请先在 Excel/WPS 中另存为 .xlsx")
    try:
        return CalamineWorkbook.from_filelike(io.BytesIO(data))
    except (CalamineError, Exception) as exc:  # calamine raises several unrelated types
        raise FileRejected(f"Excel 文件已损坏或加密，无法读取（{type(exc).__name__}）；"
                           "请在 Excel 中打开并另存为 .xlsx 后再试") from None


def _fill_merged(grid: list[list[Any]], merged) -> None:
    for (r0, c0), (r1, c1) in merged or []:
        if r0 >= len(grid):
            continue
        top = grid[r0][c0] if c0 < len(grid[r0]) else None
        for r in range(r0, min(r1, 10) + 1):
            if r >= len(grid):
                break
            for c in range(c0, c1 + 1):
                if c < len(grid[r]) and is_blank(grid[r][c]):
                    grid[r][c] = top


def _find_header(grid, columns: list[Column]) -> tuple[int, dict[str, int]] | None:
    """Look in the first 10 rows for the header; a header may span two rows (merged cells)."""
    best = None
    wanted = {c.key: c.names() for c in columns}
    for r in range(min(10, len(grid))):
        for span in (1, 2):
            if r + span > len(grid):
                continue
            width = max(len(grid[i]) for i in range(r, r + span))
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


def read_table(data: bytes, columns: list[Column], *, filename: str = "") -> Table:
    """Find the sheet and header that match `columns`, then parse every data row."""
    wb = open_workbook(data, filename)
    required = [c for c in columns if c.required]
    candidates = []
    for meta in wb.sheets_metadata:
        sheet = wb.get_sheet_by_name(meta.name)
        grid = sheet.to_python(skip_empty_area=False)
        _fill_merged(grid, sheet.merged_cell_ranges)
        found = _find_header(grid, columns)
        if found:
            hidden = meta.visible != SheetVisibleEnum.Visible
            candidates.append((sum(c.key in found[1] for c in required), not hidden, meta.name, grid, found))
    if not candidates:
        raise FileRejected("工作簿中没有工作表")
    candidates.sort(key=lambda t: (t[0], t[1]), reverse=True)
    matched, _, name, grid, (header_rows, positions) = candidates[0]
    missing = [c.header for c in required if c.key not in positions]
    if missing:
        raise FileRejected(
            f"这不是本系统的导入模板：工作表“{name}”缺少必需的列 {'、'.join(missing)}。"
            "请从“下载模板”获取模板，把数据粘贴进去后再导入")
    table = Table(sheet=name, grid=grid, header_rows=header_rows, positions=positions)
    for r in range(header_rows, len(grid)):
        raw = grid[r]
        if all(is_blank(v) for v in raw):
            continue  # empty rows (trailing or in between) are not data
        values = {}
        for col in columns:
            idx = positions.get(col.key)
            value = raw[idx] if idx is not None and idx < len(raw) else None
            if col.required and is_blank(value):
                table.problems.append(Problem(r + 1, _letter(idx), col.header, value, "必填项为空"))
                continue
            try:
                values[col.key] = col.parse(value)
            except CellError as exc:
                table.problems.append(Problem(r + 1, _letter(idx), col.header, value, str(exc)))
        table.rows.append((r + 1, values))
    if not table.rows:
        table.problems.append(Problem(None, None, None, None, f"工作表“{name}”表头下面没有数据行"))
    return table


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
    """A copy of the uploaded data with each bad cell marked, plus a list of all problems."""
    wb = Workbook()
    ws_list = wb.active
    ws_list.title = "错误清单"
    ws_list.append(["行号", "列", "列名", "原值", "错误原因"])
    for cell in ws_list[1]:
        cell.font = HEADER_FONT
    for p in problems:
        ws_list.append([p.row, p.column, p.header, safe(_show(p.value)), p.message])
    ws_list.column_dimensions["E"].width = 80
    grid = table_or_grid.grid if isinstance(table_or_grid, Table) else table_or_grid
    if grid:
        ws = wb.create_sheet("原数据（已标出错误）")
        for raw in grid:
            ws.append([safe(_show(v)) for v in raw])
        for n, p in enumerate(q for q in problems if q.row and q.column):
            cell = ws[f"{p.column}{p.row}"]
            cell.fill = BAD_FILL
            if n < 5000:  # comments are heavy; every problem is in the list sheet anyway
                cell.comment = Comment(p.message, "fupin")
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _show(value: Any) -> Any:
    if isinstance(value, float):
        return f"{value:.5E}" if value >= 1e15 else value
    if isinstance(value, (dt.date, dt.datetime, dt.time, dt.timedelta)):
        return str(value)
    return value
