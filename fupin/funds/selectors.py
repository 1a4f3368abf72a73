"""The checks auditors run on the ledger (SPEC §10), as report rows."""
from __future__ import annotations

from django.db.models import Count, Exists, F, OuterRef, Q, Sum

from .models import Account, AccountKind, Entry, TxnKind

_LIVE_PAYMENT = Q(transaction__kind=TxnKind.PAYMENT, reversals__isnull=True)


def payments_to_deceased():
    """Payments (not reversed) dated after the payee's recorded death."""
    return list(Entry.objects.filter(_LIVE_PAYMENT, account__kind=AccountKind.PAYEE, account__person__alive=False,
                                     transaction__date__gt=F("account__person__death_date"), amount__gt=0)
                .values("id", "transaction_id", "transaction__date", "entitlement", "period",
                        "account__payee_name", "account__person__death_date", "amount").order_by("id"))


def payments_to_unknown_persons():
    """Payments to person payees whose ID number is not in the registry."""
    from fupin.registry.models import Person

    known = Person.objects.filter(id_number=OuterRef("account__payee_id_number"))
    return list(Entry.objects.filter(_LIVE_PAYMENT, account__kind=AccountKind.PAYEE, account__payee_type="person",
                                     amount__gt=0).exclude(Exists(known))
                .values("id", "transaction_id", "entitlement", "period", "account__payee_name",
                        "account__payee_id_number", "amount").order_by("id"))


def duplicate_payments():
    """More than one live payment to the same payee for the same entitlement and period."""
    return list(Entry.objects.filter(_LIVE_PAYMENT, account__kind=AccountKind.PAYEE, amount__gt=0)
                .values("account_id", "account__payee_name", "entitlement", "period")
                .annotate(n=Count("id"), total=Sum("amount")).filter(n__gt=1).order_by("account_id"))


def disbursement_progress(year: int | None = None):
    """Per budget line: allocated, paid out, balance, and the share paid."""
    budgets = Account.objects.filter(kind=AccountKind.BUDGET)
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
