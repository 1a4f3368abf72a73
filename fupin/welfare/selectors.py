"""Reads: a household's benefits, who is due for a re-check, run review, payment lists."""
from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

from django.db.models import OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from fupin.core import access, audit, idcard
from fupin.core.models import User
from fupin.core.roles import Cap

from .models import Application, Enrolment, PaymentRun, RunStatus
from .services import access_run


def enrolments_for(user: User):
    access.require(user, Cap.READ)
    lo, hi = access.scope_range(user)
    return Enrolment.objects.filter(household__village_id__gte=lo, household__village_id__lte=hi)


def applications_for(user: User):
    access.require(user, Cap.READ)
    lo, hi = access.scope_range(user)
    return Application.objects.filter(household__village_id__gte=lo, household__village_id__lte=hi)


def runs_for(user: User):
    access.require(user, Cap.READ)
    lo, hi = access.scope_range(user)
    return PaymentRun.objects.filter(county_id__gte=lo, county_id__lte=hi)


def running(qs, on: dt.date):
    month = on.replace(day=1)
    return qs.filter(start__lte=month).filter(Q(stop__isnull=True) | Q(stop__gt=month))


def household_benefits(user: User, household, today: dt.date | None = None) -> list[Enrolment]:
    """Every programme's benefits of the household's members this month (and those stopped
    or one-off this year), each with its monthly amount."""
    today = today or timezone.localdate()
    qs = enrolments_for(user).filter(household=household).filter(
        Q(stop__isnull=True) | Q(stop__gte=dt.date(today.year, 1, 1))).select_related("person")
    return list(qs.order_by("person_id", "programme", "start"))


def recheck_due(user: User, on: dt.date | None = None):
    """Running enrolments whose periodic re-check is due by `on` (应保尽保、应退尽退), and those a
    department comparison has raised: a finding of a kind the pack lists
    (`welfare.recheck.finding_rules`: e.g. deaths, business registrations) about the recipient
    or the household since the enrolment started and since its last re-check. `finding` is the
    latest such finding's label (empty for a periodic one)."""
    from fupin.monitoring.models import Warning

    from .models import Recheck
    from .services import _p

    on = on or timezone.localdate()
    rules = list(_p(user.region_id, "welfare.recheck.finding_rules", on))
    # used inside `findings` (a query over warnings), so the enrolment is two queries out
    last = Recheck.objects.filter(enrolment=OuterRef(OuterRef("pk"))).order_by("-checked_on").values("checked_on")[:1]
    findings = (Warning.objects.filter(rule__in=rules)
                .filter(Q(household=OuterRef("household")) | Q(person=OuterRef("person")))
                .filter(created_on__gte=OuterRef("start"), created_on__lte=on,
                        created_on__gt=Coalesce(Subquery(last), Value(dt.date(1900, 1, 1))))
                .order_by("-created_on", "-id"))
    return (enrolments_for(user).filter(stop__isnull=True)
            .annotate(finding=Subquery(findings.values("label")[:1]))
            .filter(Q(next_recheck__lte=on) | Q(finding__isnull=False))
            .select_related("person", "household__village").order_by("next_recheck", "household__village_id", "id"))


def asset_findings(user: User, household) -> list[dict]:
    """What the department lists say about the household's members' assets, for the verifier
    of the home visit to check (read only): the rows of the lists whose kind marks people who
    must not be included (vehicles, business registrations, commercial housing, public
    employees: `exclusion` in policies/lists/departments) linked to a member — by the same ID,
    or by a link an officer confirmed or the model accepted. Newest data first."""
    from fupin.monitoring.lists import kinds
    from fupin.monitoring.models import Band, Decision, Link

    access.require(user, Cap.READ)
    wanted = {k.key: k for k in kinds().values() if k.exclusion}
    links = (Link.objects.filter(person__household=household, row__batch__kind__in=list(wanted))
             .filter(Q(decision=Decision.SAME) | (Q(band=Band.AUTO) & ~Q(decision=Decision.DIFFERENT)))
             .select_related("person", "row__batch").order_by("-row__batch__as_of", "person_id", "row__row"))
    out = []
    for link in links[:50]:
        kind, row = wanted[link.row.batch.kind], link.row
        details = "；".join(f"{c.header}：{row.data[c.key]}" for c in kind.columns
                           if c.key in kind.extra_keys and row.data.get(c.key) not in (None, ""))
        out.append({"person": link.person.name, "list": kind.label, "department": kind.department,
                    "as_of": row.batch.as_of, "details": details})
    return out


def review(user: User, run_id: int):
    """The run and its lines, exceptions (new, changed, jumps) first."""
    run = access_run(user, run_id)
    lines = run.lines.select_related("person__household__village").order_by("-flag", "person__household__village_id",
                                                                              "person_id")
    return run, lines


def safe(value):
    """Text Excel would run as a formula gets a leading ' (this room does not import exchange)."""
    return "'" + value if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def workbook(title: str, header: list, rows) -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title[:31])
    ws.append(header)
    for row in rows:
        ws.append([safe(v) for v in row])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def enrolments_export(user: User, qs) -> bytes:
    access.require(user, Cap.EXPORT)
    rows = [(e.household.village.name, e.household.number, e.person.name, idcard.mask(e.person.id_number),
             e.get_programme_display(), e.category_label, Decimal(e.monthly_amount) / 100, f"{e.start:%Y-%m}",
             f"{e.stop:%Y-%m}" if e.stop else "", e.stop_reason) for e in qs.select_related("household__village", "person")]
    data = workbook("社会救助对象", ["村", "户编号", "姓名", "身份证号", "救助项目", "类别", "月发放金额（元）", "起始月份",
                                  "停发月份", "停发原因"], rows)
    audit.export(user, what=f"导出社会救助对象名单（{len(rows)} 条）", object_type="welfare_enrolment", object_id="list",
                 persons=len({r[3] + r[2] for r in rows}))
    return data


def payment_list(user: User, run_id: int) -> bytes:
    """The banks' list: one sheet per bank with the household account (masked unless the user
    may see bank numbers), the recipient and the amount in yuan as a number; a summary sheet."""
    from openpyxl import Workbook

    access.require(user, Cap.EXPORT)
    run = access_run(user, run_id)
    if run.status != RunStatus.POSTED:
        from fupin.core.errors import FupinError
        raise FupinError("发放入账后才能导出银行发放名单")
    full = access.may(user, Cap.REVEAL_BANK)
    per_bank: dict[str, list] = {}
    for line in run.lines.select_related("person__household__village").order_by("person__household__village_id", "id"):
        per_bank.setdefault(line.person.household.bank_name or "（未登记开户银行）", []).append(line)
    wb = Workbook(write_only=True)
    summary = wb.create_sheet("汇总")
    summary.append(["开户银行", "人数", "金额（元）"])
    for bank, lines in per_bank.items():
        ws = wb.create_sheet(safe(bank)[:31])
        ws.append(["序号", "姓名", "身份证号", "银行账号", "村", "金额（元）"])
        for i, line in enumerate(lines, start=1):
            p, h = line.person, line.person.household
            ws.append([i, safe(p.name), idcard.mask(p.id_number), h.bank_account if full else idcard.mask_bank(h.bank_account),
                       safe(h.village.name), Decimal(line.amount) / 100])
        summary.append([safe(bank), len(lines), Decimal(sum(x.amount for x in lines)) / 100])
    out = io.BytesIO()
    wb.save(out)
    audit.export(user, what=f"导出社会救助银行发放名单（计算 {run.pk}）", object_type="welfare_run", object_id=run.pk,
                 persons=sum(len(v) for v in per_bank.values()))
    return out.getvalue()
