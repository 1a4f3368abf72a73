"""`fupin link LEFT RIGHT --out MATCHES`: two files in, candidate pairs out, no database.

The files are read with the hardened reader (fupin.exchange.excel); the person columns are
姓名 (required), 公民身份号码, 性别, 出生日期, 住址; every other column is carried into the output
with a 左_/右_ prefix. The output format is documented in docs/linkage.md.
"""
from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

from django.conf import settings

from fupin.exchange import excel
from fupin.exchange.excel import FileRejected

from . import linkage, lists

HEADERS = ["左行号", "右行号", "匹配概率", "分档", "方式"]
PERSON = [c for c in lists.PERSON_COLUMNS if c.key != "village_code"]


def read_side(path: Path) -> tuple[list[linkage.Record], list[str], list[str]]:
    """(records, extra headers, problems as Chinese lines)."""
    data = path.read_bytes()
    try:
        table = excel.read_table(data, PERSON, filename=path.name)
    except FileRejected as exc:
        return [], [], [f"{path.name}：{exc.message}"]
    if table.problems:
        return [], [], [f"{path.name} {p}" for p in table.problems]
    raw = {}
    for number, values in table.source():
        if number >= table.header_rows:
            raw[number] = values
    header = [str(v).strip() if v is not None else "" for v in raw.get(table.header_rows, [])]
    used = set(table.positions.values())
    extra = [(i, h) for i, h in enumerate(header) if i not in used and h]
    records = []
    for number, values in table.rows:
        row = raw.get(number, [])
        carried = {h: ("" if i >= len(row) or row[i] is None else excel._show(row[i])) for i, h in extra}
        records.append(linkage.Record(key=str(number), name=values.get("name", ""),
                                      id_number=values.get("id_number", ""), sex=values.get("sex", ""),
                                      birth=values.get("birth_date") or "", address=values.get("address", ""),
                                      extra=carried))
    return records, [h for _, h in extra], []


def _person_cells(rec: linkage.Record) -> list:
    birth = rec.birth.isoformat() if hasattr(rec.birth, "isoformat") else rec.birth
    return [rec.name, rec.id_number, {"M": "男", "F": "女"}.get(rec.sex, ""), birth, rec.address]


def run(left: Path, right: Path, out: Path, min_probability: float | None = None, *, engine: str = "duckdb") -> int:
    problems = []
    if engine == "spark":
        try:
            import pyspark  # noqa: F401 - an optional extra
        except ImportError:
            problems.append("未安装 Spark 组件：请先运行 pip install pyspark==3.5.7（并安装 Java 17），或改用 --engine duckdb")
    for p in (left, right):
        if not p.is_file():
            problems.append(f"找不到文件：{p}")
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 2
    lrec, lextra, lp = read_side(left)
    rrec, rextra, rp = read_side(right)
    if lp or rp:
        print("文件有错误，未做比对；请改正后重试：\n" + "\n".join(lp + rp), file=sys.stderr)
        return 1
    auto, review = settings.MONITORING_LINK_AUTO, settings.MONITORING_LINK_REVIEW
    pairs = linkage.link(lrec, rrec, auto=auto, review=review,
                         floor=review if min_probability is None else min_probability, engine=engine)
    lk = {r.key: r for r in lrec}
    rk = {r.key: r for r in rrec}
    names = [c.header for c in PERSON]
    header = HEADERS + [f"左_{h}" for h in names + lextra] + [f"右_{h}" for h in names + rextra]
    rows = []
    for p in pairs:
        a, b = lk[p.left], rk[p.right]
        rows.append([int(p.left), int(p.right), f"{p.probability:.6f}", linkage.BAND_LABEL[p.band],
                     linkage.METHOD_LABEL[p.method]] + _person_cells(a) + [a.extra.get(h, "") for h in lextra]
                    + _person_cells(b) + [b.extra.get(h, "") for h in rextra])
    if out.suffix.lower() == ".xlsx":
        from openpyxl import Workbook

        wb = Workbook(write_only=True)
        excel.write_sheet(wb.create_sheet("候选配对"), header, rows)
        wb.save(out)
    else:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(header)
        w.writerows([[excel.safe(v) for v in row] for row in rows])
        out.write_text(buf.getvalue(), encoding="utf-8-sig")  # with BOM, so Excel opens it as UTF-8
    counts = {b: sum(p.band == b for p in pairs) for b in (linkage.AUTO, linkage.REVIEW, linkage.REJECT)}
    print(f"左 {len(lrec)} 行，右 {len(rrec)} 行；候选配对 {len(pairs)} 对：自动确认 {counts['auto']}，"
          f"人工复核 {counts['review']}，拒绝 {counts['reject']}；已写入 {out}")
    return 0
