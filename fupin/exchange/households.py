"""Households and persons in and out of Excel: one row per person (the 建档立卡 layout).

An import is all or nothing: `plan_import` validates everything and works out what would
change; `run_import` applies the plan in one transaction. Re-importing the same file finds
nothing to change and writes nothing but its audit record.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.comments import Comment

from fupin.core import access, audit, idcard, progress
from fupin.core.bulk import chunks
from fupin.core.models import AuditAction, Region, User
from fupin.core.roles import Cap
from fupin.registry.choices import (Assistance, Attribute, Cause, Education, EventKind, Health,
                                    HousingGrade, Labour, Relation, Schooling, Sex, Standard, Status)
from fupin.registry import validators
from fupin.registry.selectors import where_registered
from fupin.registry.services import STATUS_BY_WORKFLOW
from fupin.registry.models import Household, MembershipEvent, Person

from . import excel
from .excel import CellError, Column, FileRejected, Problem


def _id_number(value):
    result = idcard.check(value)
    if not result.valid:
        raise CellError(result.error)
    return result.id


_cause = excel.choice(Cause)


def _registry_rule(rule, what: str):
    """A cell checked by the registry's own validator (the same rule as the forms and the API)."""
    from django.core.exceptions import ValidationError

    as_text = excel.text(60)

    def parse(value):
        if isinstance(value, float) and value >= 2 ** 53:
            raise CellError(f"{what}被存成了数字（{value:.5E}），精度已丢失；请把该列设为“文本”后重新录入")
        s = as_text(value)
        try:
            return rule(s)
        except ValidationError as exc:
            raise CellError(exc.messages[0]) from None
    return parse


def _causes(value):
    if excel.is_blank(value):
        return []
    parts = [p for p in str(value).replace("，", ",").replace("、", ",").split(",") if p.strip()]
    if len(parts) > 2:
        raise CellError("其他致贫原因最多填两项，用“、”分隔")
    return [_cause(p) for p in parts]


HOUSEHOLD_COLUMNS = [
    Column("number", "户编号", _registry_rule(validators.household_number, "户编号"), required=True, aliases=("户号", "户码")),
    Column("village", "村代码", excel.digits(12, 12, "村代码"), required=True,
           aliases=("行政区划代码", "村级代码"), note="12位统计用区划代码"),
    Column("standard", "识别标准", excel.choice(Standard)),
    Column("attribute", "贫困户属性", excel.choice(Attribute), required=True, aliases=("贫困户类型",)),
    Column("main_cause", "主要致贫原因", excel.choice(Cause), required=True),
    Column("other_causes", "其他致贫原因", _causes, note="最多两项，用“、”分隔"),
    Column("status", "户状态", excel.choice(Status), required=True, aliases=("状态",)),
    Column("status_since", "状态起始日期", excel.date),
    Column("phone", "联系电话", _registry_rule(validators.phone, "联系电话"), aliases=("电话",)),
    Column("address", "住址", excel.text(120)),
    Column("housing_area", "住房面积", excel.decimal(2, 2000), aliases=("住房面积（平方米）",)),
    Column("housing_grade", "住房安全等级", excel.choice(HousingGrade)),
    Column("relocated", "易地扶贫搬迁", excel.boolean),
    Column("bank_name", "开户银行", excel.text(60)),
    Column("bank_account", "银行账号", _registry_rule(validators.bank_account, "银行账号"), aliases=("银行卡号",)),
]
PERSON_COLUMNS = [
    Column("name", "姓名", excel.text(40), required=True),
    Column("sex", "性别", excel.choice(Sex)),
    Column("id_number", "证件号码", _id_number, required=True, aliases=("身份证号", "身份证号码")),
    Column("birth_date", "出生日期", excel.date, note="可不填，由身份证号得出"),
    Column("relation", "与户主关系", excel.choice(Relation), required=True),
    Column("ethnicity", "民族", excel.text(10)),
    Column("education", "文化程度", excel.choice(Education)),
    Column("schooling", "在校生状况", excel.choice(Schooling)),
    Column("health", "健康状况", excel.choice(Health)),
    Column("labour", "劳动技能", excel.choice(Labour), required=True),
    Column("migrant_months", "务工时间", excel.integer(0, 12), aliases=("务工时间（月）",)),
    Column("medical_insurance", "参加医保", excel.boolean, aliases=("是否参加医保",)),
    Column("pension_insurance", "参加养老保险", excel.boolean, aliases=("是否参加养老保险",)),
    Column("assistance", "低保特困", excel.choice(Assistance), aliases=("低保/特困",)),
]
COLUMNS = HOUSEHOLD_COLUMNS + PERSON_COLUMNS
HOUSEHOLD_KEYS = ["village", "standard", "attribute", "main_cause", "other_cause_1", "other_cause_2",
                  "status", "status_since", "phone", "address", "housing_area", "housing_grade",
                  "relocated", "bank_name", "bank_account"]
PERSON_KEYS = ["name", "sex", "birth_date", "relation", "ethnicity", "education", "schooling",
               "health", "labour", "migrant_months", "medical_insurance", "pension_insurance",
               "assistance"]
DEFAULTS = {"standard": Standard.NATIONAL, "ethnicity": "汉族", "schooling": Schooling.NOT_IN_SCHOOL,
            "health": Health.HEALTHY, "migrant_months": 0, "medical_insurance": True,
            "pension_insurance": False, "assistance": Assistance.NONE, "relocated": False,
            "education": "", "phone": "", "address": "", "housing_grade": "", "bank_name": "",
            "bank_account": ""}


@dataclass
class ImportReport:
    filename: str
    sha256: str
    rows: int = 0
    households_created: int = 0
    households_updated: int = 0
    households_unchanged: int = 0
    persons_created: int = 0
    persons_updated: int = 0
    persons_unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    error_workbook: bytes | None = None
    dry_run: bool = False
    committed: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        if not self.ok:
            return f"发现 {len(self.problems)} 处错误，未导入任何数据"
        verb = "试导入（未保存）" if self.dry_run else "导入完成"
        return (f"{verb}：共 {self.rows} 行；户 新增 {self.households_created}、更新 "
                f"{self.households_updated}、无变化 {self.households_unchanged}；人 新增 "
                f"{self.persons_created}、更新 {self.persons_updated}、无变化 {self.persons_unchanged}")


@dataclass
class _Plan:
    new_households: list[dict]                         # field values by attname
    changed_households: list[tuple[Household, dict]]
    new_persons: list[tuple[dict, str]]                # field values, household number
    changed_persons: list[tuple[Person, dict]]


def _household_values(values: dict) -> dict:
    causes = values.get("other_causes") or []
    out = {k: values.get(k) for k in HOUSEHOLD_KEYS if k in values}
    out["other_cause_1"] = causes[0] if len(causes) > 0 else ""
    out["other_cause_2"] = causes[1] if len(causes) > 1 else ""
    for k, v in DEFAULTS.items():
        if k in HOUSEHOLD_KEYS and out.get(k) in (None, ""):
            out[k] = v
    return out


def _person_values(values: dict) -> dict:
    out = {k: values.get(k) for k in PERSON_KEYS}
    for k, v in DEFAULTS.items():
        if k in PERSON_KEYS and out.get(k) in (None, ""):
            out[k] = v
    return out


def plan_import(user: User, data: bytes, filename: str = "", *,
                initial_load: bool = False) -> tuple[ImportReport, _Plan | None]:
    """`initial_load` is the one-off migration of a county's existing registry (CLI only, county
    administrator): new households keep the status in the file. Otherwise a new household comes
    in as 待识别 and an existing household's status must match the registry."""
    access.require(user, Cap.IMPORT)
    if initial_load:
        access.require(user, Cap.MANAGE_USERS, what="初始迁移导入（保留户状态）")
    report = ImportReport(filename=filename, sha256=hashlib.sha256(data).hexdigest())
    try:
        table = excel.read_table(data, COLUMNS, filename=filename)
    except FileRejected as exc:
        report.problems.append(Problem(None, None, None, None, exc.message))
        return report, None
    report.rows = len(table.rows)
    problems = table.problems
    pos = table.positions

    def bad(row, key, value, message):
        col = next(c for c in COLUMNS if c.key == key)
        idx = pos.get(key)
        problems.append(Problem(row, excel._letter(idx), col.header, value, message))

    # Cross-row checks inside the file.
    households: dict[str, dict] = {}
    first_row: dict[str, int] = {}
    persons: dict[str, tuple[int, dict, str]] = {}
    heads: dict[str, list[int]] = defaultdict(list)
    total = len(table.rows)
    for i, (row, values) in enumerate(table.rows, start=1):
        if i % 1000 == 0:
            progress.report(i, total, "检查数据")
        number = values.get("number")
        if not number:
            continue
        hv = _household_values(values)
        if hv.get("main_cause") and hv["main_cause"] in (hv["other_cause_1"], hv["other_cause_2"]):
            bad(row, "other_causes", values.get("other_causes"), "不能与主要致贫原因重复")
        if number in households:
            for k, v in hv.items():
                if households[number].get(k) != v:
                    col_key = "other_causes" if k.startswith("other_cause") else k
                    bad(row, col_key, v, f"与本户第{first_row[number]}行填写的不一致，同一户的户信息须相同")
                    break
        else:
            households[number], first_row[number] = hv, row
        if values.get("relation") == Relation.HEAD:
            heads[number].append(row)
        pid = values.get("id_number")
        if not pid:
            continue
        if pid in persons:
            bad(row, "id_number", pid, f"与第{persons[pid][0]}行是同一人（证件号码重复）")
            continue
        birth, sex_label = idcard.facts(pid)
        pv = _person_values(values)
        if pv["birth_date"] is None or pv["birth_date"] == "":
            pv["birth_date"] = birth
        elif pv["birth_date"] != birth:
            bad(row, "birth_date", pv["birth_date"], f"与身份证号中的出生日期 {birth} 不一致")
        sex = "M" if sex_label == "男" else "F"
        if not pv.get("sex"):
            pv["sex"] = sex
        elif pv["sex"] != sex:
            bad(row, "sex", pv["sex"], f"与身份证号第17位（{sex_label}）不一致")
        persons[pid] = (row, pv, number)

    # Region scope and village codes.
    codes = {hv["village"] for hv in households.values() if hv.get("village")}
    villages = {r.code: r for r in Region.objects.filter(code__in=codes, level=5)}
    lo, hi = access.scope_range(user)
    for number, hv in households.items():
        code = hv.get("village")
        if code and code not in villages:
            bad(first_row[number], "village", code, f"村代码 {code} 不存在或不是村级区划")
        elif code and not lo <= code <= hi:
            bad(first_row[number], "village", code, f"村 {villages[code].name}（{code}）不在您的管辖范围内")

    # What is already in the database.
    existing_h: dict[str, Household] = {}
    for chunk in chunks(list(households), 2000):
        existing_h.update((h.number, h) for h in Household.objects.filter(number__in=chunk))
    for number, h in existing_h.items():
        if not lo <= h.village_id <= hi:
            bad(first_row[number], "number", number, f"户 {number} 已存在且不在您的管辖范围内")
        elif households[number].get("status") != h.status:
            bad(first_row[number], "status", Status(households[number]["status"]).label,
                f"{STATUS_BY_WORKFLOW}：库中为“{h.get_status_display()}”，导入不能修改；请在系统中发起相应流程")
    for number, hv in households.items():
        if number not in existing_h and not initial_load and hv.get("status") not in (None, Status.APPLIED):
            bad(first_row[number], "status", Status(hv["status"]).label,
                f"新户只能以“{Status.APPLIED.label}”导入（{STATUS_BY_WORKFLOW}），导入后请发起识别流程")
    # Tuples, not model instances: (pk, household id, household number, village, *PERSON_KEYS); a
    # Person is made only for a person who changes, so re-importing a large file stays small.
    existing_p: dict[str, tuple] = {}
    for chunk in chunks(list(persons), 2000):
        existing_p.update((r[0], r[1:]) for r in Person.objects.filter(id_number__in=chunk).values_list(
            "id_number", "id", "household_id", "household__number", "household__village_id", *PERSON_KEYS))
    db_heads: dict[int, str] = {}
    ids = [h.pk for h in existing_h.values()]
    for chunk in chunks(ids, 2000):
        db_heads.update(Person.objects.filter(household_id__in=chunk, relation=Relation.HEAD, alive=True)
                        .values_list("household_id", "id_number"))
    for pid, (row, pv, number) in persons.items():
        p = existing_p.get(pid)
        if p is not None and (p[1] is None or p[2] != number):
            bad(row, "id_number", idcard.mask(pid), f"此人已登记在{where_registered(user, p[2], p[3])}；"
                                                    "请在系统中办理户间迁移，不能用导入改户")
    for number in households:
        h = existing_h.get(number)
        file_heads = heads.get(number, [])
        kept = []
        if h is not None and h.pk in db_heads:
            db_head = db_heads[h.pk]
            if db_head not in persons or persons[db_head][1]["relation"] == Relation.HEAD:
                kept = [db_head] if db_head not in persons else []
        total = len(file_heads) + len(kept)
        if total == 0:
            bad(first_row[number], "relation", "", f"户 {number} 没有户主，请标出一位“户主”")
        elif total > 1:
            bad((file_heads or [first_row[number]])[-1], "relation", "户主",
                f"户 {number} 有{total}位户主，一户只能有一位")

    problems.sort(key=lambda p: (p.row or 0, p.column or ""))
    if problems:
        report.problems = problems
        report.error_workbook = excel.error_workbook(table, problems)
        return report, None

    plan = _Plan([], [], [], [])
    for number, hv in households.items():
        h = existing_h.get(number)
        if h is None:
            plan.new_households.append({"number": number, **{("village_id" if k == "village" else k): v
                                                             for k, v in hv.items()}})
            continue
        current = {k: (h.village_id if k == "village" else getattr(h, k)) for k in hv}
        diff = {k: v for k, v in hv.items() if current[k] != v}
        if diff:
            plan.changed_households.append((h, diff))
        else:
            report.households_unchanged += 1
    for pid, (row, pv, number) in persons.items():
        p = existing_p.get(pid)
        if p is None:
            pv.update(id_number=pid, id_reversed=pid[::-1])  # in place: one dict per person, not two
            plan.new_persons.append((pv, number))
            continue
        current = dict(zip(PERSON_KEYS, p[4:]))
        diff = {k: v for k, v in pv.items() if current[k] != v}
        if diff:
            plan.changed_persons.append((Person(pk=p[0], household_id=p[1], id_number=pid, **current,
                                                updated_at=timezone.now()), diff))
        else:
            report.persons_unchanged += 1
    report.households_created = len(plan.new_households)
    report.households_updated = len(plan.changed_households)
    report.persons_created = len(plan.new_persons)
    report.persons_updated = len(plan.changed_persons)
    return report, plan


def run_import(user: User, data: bytes, filename: str = "", *, dry_run: bool = False,
               initial_load: bool = False) -> ImportReport:
    report, plan = plan_import(user, data, filename, initial_load=initial_load)
    report.dry_run = dry_run
    if plan is None or dry_run:
        if plan is None:
            audit.record(user, AuditAction.IMPORT, object_type="file", object_id=report.sha256[:16],
                         result="failed", summary=f"导入失败：{filename}（{len(report.problems)}处错误）",
                         detail={"problems": [str(p) for p in report.problems[:50]]})
        return report
    progress.report(report.rows, report.rows, "写入数据库")
    with transaction.atomic():
        _apply(user, plan, report)
        audit.record(user, AuditAction.IMPORT, object_type="file", object_id=report.sha256[:16],
                     summary=f"导入 {filename}：{report.summary()}",
                     detail={"sha256": report.sha256, "rows": report.rows})
    report.committed = True
    return report


def _apply(user: User, plan: _Plan, report: ImportReport) -> None:
    from fupin.core.bulk import insert_rows
    from fupin.core.models import AuditEvent

    today = timezone.localdate()
    insert_rows(Household, plan.new_households)
    for h, diff in plan.changed_households:
        for k, v in diff.items():
            setattr(h, "village_id" if k == "village" else k, v)
    changed_fields = sorted({("village_id" if k == "village" else k)
                             for _, d in plan.changed_households for k in d} | {"updated_at"})
    if plan.changed_households:
        Household.objects.bulk_update([h for h, _ in plan.changed_households], changed_fields, batch_size=2000)
    numbers = sorted({n for _, n in plan.new_persons} | {h["number"] for h in plan.new_households})
    pk_of: dict[str, int] = {}
    for chunk in chunks(numbers, 5000):
        pk_of.update(Household.objects.filter(number__in=chunk).values_list("number", "pk"))
    for p, number in plan.new_persons:
        p["household_id"] = pk_of[number]  # in place: a copy of 100000 person dicts costs ~120 MB
    insert_rows(Person, [p for p, _ in plan.new_persons])
    new_ids = [p["id_number"] for p, _ in plan.new_persons]
    person_pk: dict[str, tuple[int, int]] = {}
    for chunk in chunks(new_ids, 5000):
        person_pk.update((i, (pk, hid)) for i, pk, hid in
                         Person.objects.filter(id_number__in=chunk).values_list("id_number", "pk", "household_id"))
    for p, diff in plan.changed_persons:
        for k, v in diff.items():
            setattr(p, k, v)
    changed_person_fields = sorted({k for _, d in plan.changed_persons for k in d} | {"updated_at"})
    if plan.changed_persons:
        Person.objects.bulk_update([p for p, _ in plan.changed_persons], changed_person_fields, batch_size=2000)
    insert_rows(MembershipEvent, [
        {"kind": EventKind.REGISTER, "person_id": pk, "to_household_id": hid, "from_household_id": None,
         "date": today, "note": "Excel导入", "recorded_by_id": user.pk} for pk, hid in person_pk.values()])
    base = {"actor_id": user.pk, "actor_name": user.username, "result": "ok", "ip": None}
    events = [{**base, "action": AuditAction.CREATE, "object_type": "household", "object_id": str(pk_of[h["number"]]),
               "household_id": pk_of[h["number"]], "summary": f"导入新增户 {h['number']}", "detail": {}}
              for h in plan.new_households]
    events += [{**base, "action": AuditAction.UPDATE, "object_type": "household", "object_id": str(h.pk),
                "household_id": h.pk, "summary": f"导入修改户 {h.number}", "detail": {"fields": audit.changes({}, d)}}
               for h, d in plan.changed_households]
    per_household: dict[int, int] = defaultdict(int)
    for _, hid in person_pk.values():
        per_household[hid] += 1
    events += [{**base, "action": AuditAction.MEMBERSHIP, "object_type": "household", "object_id": str(hid),
                "household_id": hid, "summary": f"导入登记 {n} 名成员", "detail": {}}
               for hid, n in per_household.items()]
    events += [{**base, "action": AuditAction.UPDATE, "object_type": "person", "object_id": str(p.pk),
                "household_id": p.household_id, "summary": f"导入修改人员 {p.name}",
                "detail": {"fields": audit.changes({}, d)}} for p, d in plan.changed_persons]
    insert_rows(AuditEvent, events)


# ---- export and template -----------------------------------------------------------------

def _labels(enum):
    return dict(enum.choices)


def export_headers(user: User) -> list[str]:
    """The template's headers; a masked export holds the birth year where the birth date would be."""
    full_id = access.may(user, Cap.REVEAL_ID)
    return [c.header if full_id or c.key != "birth_date" else "出生年份" for c in COLUMNS]


def export_rows(user: User, households):
    """Rows of the export, masked unless the user may see full values."""
    full_id = access.may(user, Cap.REVEAL_ID)
    full_bank = access.may(user, Cap.REVEAL_BANK)
    L = {"standard": _labels(Standard), "attribute": _labels(Attribute), "cause": _labels(Cause),
         "status": _labels(Status), "grade": _labels(HousingGrade), "sex": _labels(Sex),
         "relation": _labels(Relation), "education": _labels(Education), "schooling": _labels(Schooling),
         "health": _labels(Health), "labour": _labels(Labour), "assistance": _labels(Assistance)}
    yes = lambda b: "是" if b else "否"  # noqa: E731
    persons = (Person.objects.filter(household__in=households, alive=True)
               .select_related("household").order_by("household__number", "relation", "id"))
    for p in persons.iterator(chunk_size=5000):
        h = p.household
        yield [
            h.number, h.village_id, L["standard"].get(h.standard, ""), L["attribute"].get(h.attribute, ""),
            L["cause"].get(h.main_cause, ""),
            "、".join(L["cause"][c] for c in (h.other_cause_1, h.other_cause_2) if c),
            L["status"].get(h.status, ""), h.status_since.isoformat() if h.status_since else "",
            h.phone if full_id else idcard.mask_phone(h.phone), h.address, float(h.housing_area) if h.housing_area is not None else None,
            L["grade"].get(h.housing_grade, ""), yes(h.relocated), h.bank_name,
            h.bank_account if full_bank else idcard.mask_bank(h.bank_account),
            p.name, L["sex"][p.sex], p.id_number if full_id else idcard.mask(p.id_number),
            # masked export: the birth year only, or the masked ID could be rebuilt from the date
            p.birth_date.isoformat() if full_id else f"{p.birth_date.year}年", L["relation"][p.relation], p.ethnicity,
            L["education"].get(p.education, ""), L["schooling"].get(p.schooling, ""),
            L["health"].get(p.health, ""), L["labour"].get(p.labour, ""), p.migrant_months,
            yes(p.medical_insurance), yes(p.pension_insurance), L["assistance"].get(p.assistance, ""),
        ]


def export_households(user: User, region_code: str) -> tuple[bytes, int]:
    """The region's households and members as the import template's layout."""
    access.require(user, Cap.EXPORT)
    region = access.access_region(user, region_code)
    lo, hi = region.code_range()
    households = access.households_for(user, Cap.EXPORT).filter(village_id__gte=lo, village_id__lte=hi)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("户籍成员")
    ws.append(export_headers(user))
    count = 0
    total = Person.objects.filter(household__in=households, alive=True).count()
    for row in export_rows(user, households):
        ws.append([excel.safe(v) for v in row])
        count += 1
        if count % 1000 == 0:
            progress.report(count, total, "写出工作簿")
    out = io.BytesIO()
    wb.save(out)
    audit.export(user, what=f"导出 {region.name} 户籍成员", object_type="region", object_id=region.code,
                 persons=count, full_ids=access.may(user, Cap.REVEAL_ID))
    return out.getvalue(), count


def template_workbook() -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "户籍成员"
    ws.append([c.header + ("*" if c.required else "") for c in COLUMNS])
    for idx, c in enumerate(COLUMNS, start=1):
        cell = ws.cell(row=1, column=idx)
        cell.font = excel.HEADER_FONT
        if c.note:
            cell.comment = Comment(c.note, "fupin")
        ws.column_dimensions[cell.column_letter].width = max(10, len(c.header) * 2 + 4)
        # Every cell is text, so Excel cannot turn an ID number into 5.10122E+17.
        for row in range(2, 502):
            ws.cell(row=row, column=idx).number_format = "@"
    _dropdowns(wb, ws)
    help_ws = wb.create_sheet("填写说明")
    help_ws.append(["列名", "是否必填", "说明或可选值"])
    for c in COLUMNS:
        help_ws.append([c.header, "必填" if c.required else "", c.note or _allowed(c)])
    help_ws.column_dimensions["C"].width = 100
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _enum(c: Column):
    return {"standard": Standard, "attribute": Attribute, "main_cause": Cause, "other_causes": Cause,
            "status": Status, "housing_grade": HousingGrade, "sex": Sex, "relation": Relation,
            "education": Education, "schooling": Schooling, "health": Health, "labour": Labour,
            "assistance": Assistance}.get(c.key)


def _dropdowns(wb, ws, rows: int = 500) -> None:
    """A drop-down list on every coded column (the labels the importer accepts), kept on a hidden
    sheet "可选值" so long lists are not cut at Excel's 255 characters. "其他致贫原因" takes several
    causes in one cell, so it has no list."""
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    options = wb.create_sheet("可选值")
    options.sheet_state = "hidden"
    n = 0
    for idx, c in enumerate(COLUMNS, start=1):
        values = ([label for _, label in _enum(c).choices] if _enum(c) and c.key != "other_causes"
                  else ["是", "否"] if c.parse is excel.boolean else None)
        if not values:
            continue
        n += 1
        letter = get_column_letter(n)
        options.cell(row=1, column=n, value=c.header)
        for i, v in enumerate(values, start=2):
            options.cell(row=i, column=n, value=v)
        dv = DataValidation(type="list", formula1=f"'可选值'!${letter}$2:${letter}${len(values) + 1}", allow_blank=True,
                            showErrorMessage=True, errorTitle="不是可选值",
                            error=f"{c.header}请从下拉列表中选择：{'、'.join(values)}"[:225])
        target = get_column_letter(idx)
        dv.add(f"{target}2:{target}{rows + 1}")
        ws.add_data_validation(dv)


def _allowed(c: Column) -> str:
    enum = _enum(c)
    if enum:
        return "、".join(label for _, label in enum.choices)
    if c.parse is excel.date:
        return "日期，如 2020-01-19、2020年1月19日、2020.1.19、20200119"
    if c.parse is excel.boolean:
        return "是 / 否"
    return ""
