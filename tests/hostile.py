"""A corpus of hostile upload files, built by code (no binaries in the repository).

Each builder returns the bytes of one file. The workbooks are written part by part with
`zipfile`, so the XML is exactly what an attacker (or a careless exporter) would send: a
declared used range of the whole sheet, a real cell at XFD1048576, a zip bomb, a shared
string table of hundreds of megabytes, thousands of styles, formulas, macros, external
links, wrong cell types, text files renamed .xlsx, truncated archives, and CSV in several
encodings. Every file is small on disk; the danger is in what it claims or expands to.
"""
from __future__ import annotations

import io
import struct
import zipfile
from xml.sax.saxutils import escape

NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
NS_R = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
REL_NS = 'xmlns="http://schemas.openxmlformats.org/package/2006/relationships"'
R_BASE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def col_letter(n: int) -> str:
    """1 → A, 16384 → XFD."""
    s = ""
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


def cell(ref: str, value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, (int, float)):
        return f'<c r="{ref}"><v>{value!r}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(str(value))}</t></is></c>'


def rows_xml(rows: list[list], start: int = 1) -> str:
    out = []
    for i, values in enumerate(rows, start=start):
        cells = "".join(cell(f"{col_letter(j)}{i}", v) for j, v in enumerate(values, start=1))
        out.append(f'<row r="{i}">{cells}</row>')
    return "".join(out)


def sheet_xml(body: str, *, dimension: str | None = None, tail: str = "") -> str:
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet {NS} {NS_R}>{dim}'
            f"<sheetData>{body}</sheetData>{tail}</worksheet>")


def package(sheet: str | bytes, *, title: str = "户籍成员", shared_strings: str | bytes | None = None,
            styles: str | bytes | None = None, extra: dict[str, bytes | str] | None = None,
            workbook_rels_extra: str = "", content_types_extra: str = "",
            workbook_extra: str = "", main_type: str = "sheet.main+xml",
            compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A minimal but valid .xlsx with one worksheet, optionally shared strings, styles and extra parts."""
    ct = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
          '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
          '<Default Extension="xml" ContentType="application/xml"/>'
          f'<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.{main_type}"/>'
          '<Override PartName="/xl/worksheets/sheet1.xml" '
          'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
          f"{content_types_extra}</Types>")
    rels = (f'<?xml version="1.0" encoding="UTF-8"?><Relationships {REL_NS}>'
            f'<Relationship Id="rId1" Type="{R_BASE}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
    wb = (f'<?xml version="1.0" encoding="UTF-8"?><workbook {NS} {NS_R}><sheets>'
          f'<sheet name="{escape(title)}" sheetId="1" r:id="rId1"/></sheets>{workbook_extra}</workbook>')
    wb_rels = [f'<Relationship Id="rId1" Type="{R_BASE}/worksheet" Target="worksheets/sheet1.xml"/>']
    if shared_strings is not None:
        wb_rels.append(f'<Relationship Id="rId2" Type="{R_BASE}/sharedStrings" Target="sharedStrings.xml"/>')
    if styles is not None:
        wb_rels.append(f'<Relationship Id="rId3" Type="{R_BASE}/styles" Target="styles.xml"/>')
    wb_rels_xml = (f'<?xml version="1.0" encoding="UTF-8"?><Relationships {REL_NS}>{"".join(wb_rels)}'
                   f"{workbook_rels_extra}</Relationships>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as z:
        z.writestr("[Content_Types].xml", ct)
        z.writestr("_rels/.rels", rels)
        z.writestr("xl/workbook.xml", wb)
        z.writestr("xl/_rels/workbook.xml.rels", wb_rels_xml)
        z.writestr("xl/worksheets/sheet1.xml", sheet)
        if shared_strings is not None:
            z.writestr("xl/sharedStrings.xml", shared_strings)
        if styles is not None:
            z.writestr("xl/styles.xml", styles)
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return out.getvalue()


# ---- the corpus --------------------------------------------------------------------------

def declared_whole_sheet(headers: list[str]) -> bytes:
    """A few hundred bytes that declare A1:XFD1048576 as the used range; only the header is real."""
    return package(sheet_xml(rows_xml([headers]), dimension="A1:XFD1048576"))


def cell_at_the_far_corner(headers: list[str]) -> bytes:
    """The header, and one real value at XFD1048576: a dense reader allocates 17 billion cells."""
    far = '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    return package(sheet_xml(rows_xml([headers]) + far, dimension="A1:XFD1048576"))


def _with_streamed_part(base: bytes, part: str, before: bytes, filler: bytes, times: int, after: bytes) -> bytes:
    """Copy `base`, replacing `part` by before + filler × times + after, deflated as it is written."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z, zipfile.ZipFile(io.BytesIO(base)) as src:
        for info in src.infolist():
            if info.filename != part:
                z.writestr(info.filename, src.read(info.filename))
        target = zipfile.ZipInfo(part)
        target.compress_type = zipfile.ZIP_DEFLATED
        with z.open(target, "w", force_zip64=True) as f:
            f.write(before)
            for _ in range(times):
                f.write(filler)
            f.write(after)
    return out.getvalue()


def zip_bomb(headers: list[str], megabytes: int = 500) -> bytes:
    """A worksheet that inflates to `megabytes` MB of blank space (about 1000:1)."""
    before, after = sheet_xml(rows_xml([headers]) + "@@").encode().split(b"@@")
    return _with_streamed_part(package(sheet_xml("")), "xl/worksheets/sheet1.xml",
                               before, b" " * (1 << 20), megabytes, after)


def lying_sizes(headers: list[str]) -> bytes:
    """A worksheet whose central directory claims 1 KB but which inflates to 50 MB."""
    before, after = sheet_xml(rows_xml([headers]) + "@@").encode().split(b"@@")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z, \
            zipfile.ZipFile(io.BytesIO(package(sheet_xml("")))) as src:
        for info in src.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                z.writestr(info.filename, src.read(info.filename))
        z.writestr("xl/worksheets/sheet1.xml", before + b" " * (50 << 20) + after)
    data = bytearray(out.getvalue())
    name = b"xl/worksheets/sheet1.xml"
    cd = data.find(b"PK\x01\x02")
    while cd != -1:  # patch the central directory's uncompressed size of the worksheet
        n_len = struct.unpack("<H", data[cd + 28:cd + 30])[0]
        if data[cd + 46:cd + 46 + n_len] == name:
            data[cd + 24:cd + 28] = struct.pack("<I", 1024)
        cd = data.find(b"PK\x01\x02", cd + 4)
    return bytes(data)


def huge_shared_strings(headers: list[str], megabytes: int = 120) -> bytes:
    """The header through shared strings, and a table of `megabytes` MB of one-letter strings."""
    n = len(headers)
    body = "".join(f'<c r="{col_letter(j + 1)}1" t="s"><v>{j}</v></c>' for j in range(n))
    before = (f'<?xml version="1.0" encoding="UTF-8"?><sst {NS}>'
              + "".join(f"<si><t>{escape(h)}</t></si>" for h in headers)).encode()
    base = package(sheet_xml(f'<row r="1">{body}</row>'), shared_strings="",
                   content_types_extra='<Override PartName="/xl/sharedStrings.xml" ContentType='
                                       '"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>')
    return _with_streamed_part(base, "xl/sharedStrings.xml", before, b"<si><t>A</t></si>" * 65536,
                               megabytes, b"</sst>")


def many_styles(headers: list[str], count: int = 70_000) -> bytes:
    """A style table with `count` cell formats (Excel allows 64000), each a little different."""
    xfs = "".join(f'<xf numFmtId="{i % 160}" fontId="0" fillId="0" borderId="0" xfId="{i}"/>' for i in range(count))
    return _styles(headers, f'<cellXfs count="{count}">{xfs}</cellXfs>')


def deep_styles(headers: list[str], depth: int = 20_000) -> bytes:
    """A style table nested `depth` elements deep (a recursive parser overflows its stack)."""
    return _styles(headers, "".join(f"<e{i}>" for i in range(depth)) + "".join(f"</e{i}>" for i in reversed(range(depth))))


def _styles(headers: list[str], inner: str) -> bytes:
    styles = (f'<?xml version="1.0" encoding="UTF-8"?><styleSheet {NS}><fonts count="1"><font/></fonts>'
              f'<fills count="1"><fill/></fills><borders count="1"><border/></borders>{inner}</styleSheet>')
    return package(sheet_xml(rows_xml([headers])), styles=styles,
                   content_types_extra='<Override PartName="/xl/styles.xml" ContentType='
                                       '"application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>')


def with_formulas(headers: list[str], row: list) -> bytes:
    """One data row in which three cells are formulas: a cached value, an error and no cached value."""
    cells = []
    for j, (h, v) in enumerate(zip(headers, row), start=1):
        ref = f"{col_letter(j)}2"
        if h == "姓名":  # cached value: read as the value, never recomputed
            cells.append(f'<c r="{ref}" t="str"><f>"张"&amp;"三"</f><v>张三</v></c>')
        elif h == "户状态":  # a formula that would reach the network; only its cached error is stored
            cells.append(f'<c r="{ref}" t="e"><f>WEBSERVICE("http://192.0.2.1/x")</f><v>#VALUE!</v></c>')
        elif h == "劳动技能":  # no cached value at all: read as empty, never evaluated
            cells.append(f'<c r="{ref}"><f>1+1</f></c>')
        else:
            cells.append(cell(ref, v))
    return package(sheet_xml(rows_xml([headers]) + f'<row r="2">{"".join(cells)}</row>'))


def with_macros(headers: list[str]) -> bytes:
    """An .xlsm: the workbook is macro-enabled and carries xl/vbaProject.bin."""
    return package(sheet_xml(rows_xml([headers])), main_type="sheet.macroEnabled.main+xml",
                   extra={"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 1024},
                   workbook_rels_extra=f'<Relationship Id="rId9" Type="http://schemas.microsoft.com/office/2006/'
                                       f'relationships/vbaProject" Target="vbaProject.bin"/>',
                   content_types_extra='<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>')


def with_external_link(headers: list[str]) -> bytes:
    """A workbook that pulls a value from another file on a network share."""
    link = (f'<?xml version="1.0" encoding="UTF-8"?><externalLink {NS} {NS_R}><externalBook r:id="rId1">'
            '<sheetNames><sheetName val="Sheet1"/></sheetNames></externalBook></externalLink>')
    link_rels = (f'<?xml version="1.0" encoding="UTF-8"?><Relationships {REL_NS}><Relationship Id="rId1" '
                 f'Type="{R_BASE}/externalLinkPath" Target="file:///\\\\server\\share\\secret.xlsx" '
                 'TargetMode="External"/></Relationships>')
    return package(sheet_xml(rows_xml([headers])),
                   extra={"xl/externalLinks/externalLink1.xml": link,
                          "xl/externalLinks/_rels/externalLink1.xml.rels": link_rels},
                   workbook_rels_extra=f'<Relationship Id="rId8" Type="{R_BASE}/externalLink" '
                                       'Target="externalLinks/externalLink1.xml"/>',
                   workbook_extra='<externalReferences><externalReference r:id="rId8"/></externalReferences>')


def wrong_types(headers: list[str], row: list) -> bytes:
    """ID number and village code stored as numbers, a boolean where a date goes, a date where a number goes."""
    values = dict(zip(headers, row))
    values["证件号码"] = 5.13435198001011e17
    values["村代码"] = 513435100200.0
    values["状态起始日期"] = True
    return package(sheet_xml(rows_xml([headers, [values[h] for h in headers]])))


def encrypted(title: str = "户籍成员") -> bytes:
    """What Excel writes for a password-protected workbook: an OLE container, not a zip."""
    header = bytearray(512)
    header[:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHH", header, 24, 0x3E, 3, 0xFFFE)
    struct.pack_into("<H", header, 30, 9)
    names = bytearray()
    for name in ("Root Entry", "EncryptionInfo", "EncryptedPackage"):
        entry = bytearray(128)
        raw = name.encode("utf-16-le")
        entry[:len(raw)] = raw
        struct.pack_into("<H", entry, 64, len(raw) + 2)
        names += entry
    return bytes(header) + bytes(names) + b"\0" * (4096 - len(names))


def text_renamed() -> bytes:
    return "这不是表格，只是一段文字。\n户编号,姓名\n".encode("utf-8")


def truncated(good: bytes) -> bytes:
    return good[: len(good) * 2 // 3]


def csv_bytes(rows: list[list], encoding: str, *, bom: bool = False) -> bytes:
    text = "\r\n".join(",".join("" if v is None else str(v) for v in r) for r in rows) + "\r\n"
    data = text.encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data
