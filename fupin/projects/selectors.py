"""Reads of the project library: lists in the user's scope, and each project's money as the
ledger records it (allocated and paid per funding source against the plan)."""
from __future__ import annotations

from django.db.models import Count, F, Q, Subquery, Sum

from fupin.funds.models import Entry, FundingSource, TxnKind

from .models import BudgetLine, Project

SORTS = {"number": "number", "-number": "-number", "year": "year", "-year": "-year", "name": "name",
         "state": "state", "category": "category"}


def projects_in(scope: tuple[str, str], *, year: int | None = None, state: str = "", category: str = "",
                region: str = "", sort: str = ""):
    lo, hi = scope
    qs = Project.objects.filter(region_id__gte=lo, region_id__lte=hi).select_related("region") \
        .annotate(planned=Sum("budget__amount"))
    if year:
        qs = qs.filter(year=year)
    if state:
        qs = qs.filter(state=state)
    if category:
        qs = qs.filter(category=category)
    if region:
        qs = qs.filter(region__code__startswith=region.rstrip("0")) if region.rstrip("0") else qs
    return qs.order_by(SORTS.get(sort, "-year"), "number")


def _ledger(numbers: list[str]):
    """(project number, source) → (allocated, paid) in fen, from the project budget lines."""
    rows = (Entry.objects.filter(account__programme="project",
                                 account__code__in=[f"project:{n}:{s}" for n in numbers for s in FundingSource.values])
            .values("account__code")
            .annotate(allocated=Sum("amount", filter=Q(transaction__kind=TxnKind.ALLOCATION)),
                      spent=Sum("amount", filter=~Q(transaction__kind=TxnKind.ALLOCATION))))
    out = {}
    for r in rows:
        _, number, source = r["account__code"].split(":")
        out[(number, source)] = (r["allocated"] or 0, -(r["spent"] or 0))
    return out


def allocated_by_source(project: Project) -> dict[str, int]:
    return {s: a for (n, s), (a, _) in _ledger([project.number]).items()}


def money(project: Project) -> dict:
    """Plan, allocated, paid and balance per source, with the shares paid (per mille) and totals."""
    ledger = _ledger([project.number])
    rows = []
    for line in project.budget.all().order_by("id"):
        allocated, paid = ledger.get((project.number, line.source), (0, 0))
        rows.append({"source": line.source, "label": line.get_source_display(), "plan": line.amount,
                     "allocated": allocated, "paid": paid, "balance": allocated - paid,
                     "paid_permille": paid * 1000 // line.amount if line.amount else 0})
    total = {k: sum(r[k] for r in rows) for k in ("plan", "allocated", "paid", "balance")}
    total["paid_permille"] = total["paid"] * 1000 // total["plan"] if total["plan"] else 0
    return {"rows": rows, "total": total}


def progress_by_source(scope: tuple[str, str], year: int | None = None) -> list[dict]:
    """Disbursement progress (资金拨付进度) per funding source over the projects in scope."""
    projects = projects_in(scope, year=year)
    numbers = list(projects.values_list("number", flat=True))
    plan = {r["source"]: r["s"] for r in BudgetLine.objects
            .filter(project__in=projects.values("pk")).values("source").annotate(s=Sum("amount"))}
    ledger = _ledger(numbers)
    rows = []
    for source, label in FundingSource.choices:
        allocated = sum(a for (n, s), (a, _) in ledger.items() if s == source)
        paid = sum(p for (n, s), (_, p) in ledger.items() if s == source)
        if plan.get(source) or allocated:
            p = plan.get(source, 0)
            rows.append({"source": source, "label": label, "plan": p, "allocated": allocated, "paid": paid,
                         "paid_permille": paid * 1000 // p if p else 0})
    return rows


def state_counts(scope: tuple[str, str], year: int | None = None) -> dict[str, int]:
    qs = projects_in(scope, year=year).order_by()
    return dict(qs.values_list("state").annotate(n=Count("id")).values_list("state", "n"))


def public_view(project: Project) -> dict:
    """What the public notice shows: the project, its money and how many households benefit —
    no names, no ID numbers (公示上墙)."""
    region = project.region
    names = []
    while region is not None and region.level >= 3:
        names.append(region.name)
        region = region.parent
    return {"project": project, "place": "".join(reversed(names)), "money": money(project),
            "households": project.beneficiaries.count(), "steps": list(project.steps.all()),
            "asset": getattr(project, "asset", None)}


def overdue_loans(scope: tuple[str, str], today):
    """Loans past their due date with principal outstanding and not renewed (逾期清单)."""
    from django.db.models import Exists, OuterRef, Sum, Value
    from django.db.models.functions import Coalesce

    from .models import Loan, Repayment

    repaid = Repayment.objects.filter(loan=OuterRef("pk")).values("loan").annotate(s=Sum("amount")).values("s")
    lo, hi = scope
    return (Loan.objects.filter(household__village_id__gte=lo, household__village_id__lte=hi, due__lt=today)
            .exclude(Exists(Loan.objects.filter(renewed_from=OuterRef("pk"))))
            .annotate(left=F("amount") - Coalesce(Subquery(repaid), Value(0))).filter(left__gt=0)
            .select_related("household__village").order_by("due", "id"))


def access_photo(user, pk):
    """A progress photo of a project the user may read (else not found)."""
    from fupin.core import access
    from fupin.core.errors import NotFound
    from fupin.core.roles import Cap

    from .models import ProgressPhoto

    access.require(user, Cap.READ)
    lo, hi = access.scope_range(user)
    ph = ProgressPhoto.objects.filter(pk=pk, progress__project__region_id__gte=lo,
                                      progress__project__region_id__lte=hi).first()
    if ph is None:
        raise NotFound(f"找不到照片（编号 {pk}），或不在您的管辖范围内")
    return ph


def allocation_view(region, year: int) -> dict:
    """What the yearly fund-allocation notice shows, for the region's projects of the year: each
    project's place and money by source, and the totals per source (no names, no households)."""
    scope = region.code_range()
    projects = list(projects_in(scope, year=year).order_by("region_id", "number"))
    rows = [{"name": p.name, "place": p.region.name, "money": money(p)["rows"]} for p in projects]
    return {"title": f"{region.name}{year}年扶贫项目资金安排公告", "rows": rows,
            "totals": progress_by_source(scope, year), "year": year, "region": region}
