"""The checks auditors run on the ledger (SPEC §10), as report rows.

Every report takes the reader's scope `(lo, hi)` (a region code range from core.access): a
payment is in scope when its payee lives there or the budget line it came from belongs there."""
from __future__ import annotations

from django.db.models import Count, Exists, F, OuterRef, Q, Sum

from .models import Account, AccountKind, Entry, TxnKind

_LIVE_PAYMENT = Q(transaction__kind=TxnKind.PAYMENT, reversals__isnull=True)


def _in_scope(scope: tuple[str, str]) -> Q:
    lo, hi = scope
    from_budget = Entry.objects.filter(transaction=OuterRef("transaction"), account__kind=AccountKind.BUDGET,
                                       account__region_id__gte=lo, account__region_id__lte=hi)
    return (Q(account__person__household__village_id__gte=lo, account__person__household__village_id__lte=hi)
            | Q(account__household__village_id__gte=lo, account__household__village_id__lte=hi)
            | Exists(from_budget))


def payments_to_deceased(scope: tuple[str, str]):
    """Payments (not reversed) dated after the payee's recorded death."""
    return list(Entry.objects.filter(_LIVE_PAYMENT, _in_scope(scope), account__kind=AccountKind.PAYEE, account__person__alive=False,
                                     transaction__date__gt=F("account__person__death_date"), amount__gt=0)
                .values("id", "transaction_id", "transaction__date", "entitlement", "period",
                        "account__payee_name", "account__person__death_date", "amount").order_by("id"))


def payments_to_unknown_persons(scope: tuple[str, str]):
    """Payments to person payees whose ID number is not in the registry."""
    from fupin.registry.models import Person

    known = Person.objects.filter(id_number=OuterRef("account__payee_id_number"))
    return list(Entry.objects.filter(_LIVE_PAYMENT, _in_scope(scope), account__kind=AccountKind.PAYEE,
                                     account__payee_type="person",
                                     amount__gt=0).exclude(Exists(known))
                .values("id", "transaction_id", "entitlement", "period", "account__payee_name",
                        "account__payee_id_number", "amount").order_by("id"))


def duplicate_payments(scope: tuple[str, str]):
    """More than one live payment to the same payee for the same entitlement and period."""
    return list(Entry.objects.filter(_LIVE_PAYMENT, _in_scope(scope), account__kind=AccountKind.PAYEE, amount__gt=0)
                .values("account_id", "account__payee_name", "entitlement", "period")
                .annotate(n=Count("id"), total=Sum("amount")).filter(n__gt=1).order_by("account_id"))


def disbursement_progress(scope: tuple[str, str], year: int | None = None):
    """Per budget line of the reader's region: allocated, paid out, balance, and the share paid."""
    lo, hi = scope
    budgets = Account.objects.filter(kind=AccountKind.BUDGET, region_id__gte=lo, region_id__lte=hi)
    if year:
        budgets = budgets.filter(year=year)
    rows = []
    for b in budgets:
        allocated = Entry.objects.filter(account=b, transaction__kind=TxnKind.ALLOCATION).aggregate(s=Sum("amount"))["s"] or 0
        paid = -(Entry.objects.filter(account=b).exclude(transaction__kind=TxnKind.ALLOCATION)
                 .aggregate(s=Sum("amount"))["s"] or 0)
        rows.append({"code": b.code, "name": b.name, "source": b.get_source_display(), "allocated": allocated,
                     "paid": paid, "balance": allocated - paid,
                     "share_permille": (paid * 1000 // allocated) if allocated else 0})
    return rows
