"""Reads of the charity room: pledges against collections, and the public account of a
campaign (money in by donor, money out by programme, beneficiaries masked)."""
from __future__ import annotations

from django.db.models import Q, Sum

from .models import Campaign, Donation, DonationKind, DonorKind, Grant, GrantState, Pledge

PAID = (GrantState.PAID, GrantState.VISITED)


def mask_name(name: str) -> str:
    """A beneficiary's (or a private donor's) name on a public page: the surname only."""
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


def pledge_progress(campaign: Campaign) -> list[dict]:
    """Per pledging unit: pledged, collected (its cash donations to the campaign), share."""
    collected = dict(Donation.objects.filter(campaign=campaign, kind=DonationKind.CASH).values("donor_id")
                     .annotate(s=Sum("amount")).values_list("donor_id", "s"))
    rows = []
    for p in Pledge.objects.filter(campaign=campaign).select_related("donor").order_by("donor__name"):
        got = collected.get(p.donor_id, 0)
        rows.append({"donor": p.donor.name, "pledged": p.amount, "collected": got,
                     "permille": got * 1000 // p.amount if p.amount else 0})
    return rows


def public_account(campaign: Campaign) -> dict:
    """What came in (cash and goods, by donor) and where it went (grants paid, by student, masked)."""
    donations = Donation.objects.filter(campaign=campaign).select_related("donor", "designation")
    incoming = []
    for d in donations.order_by("date", "id"):
        name = mask_name(d.donor.name) if d.donor.kind in (DonorKind.PUBLIC, DonorKind.STAFF) else d.donor.name
        incoming.append({"donor": name, "date": d.date, "kind": d.get_kind_display(), "amount": d.amount,
                         "items": d.items, "to": d.designation.name})
    cash = donations.filter(kind=DonationKind.CASH).aggregate(s=Sum("amount"))["s"] or 0
    goods = donations.filter(kind=DonationKind.IN_KIND).aggregate(s=Sum("amount"))["s"] or 0
    out = [{"name": mask_name(g.person.name), "village": g.person.household.village.name, "programme": g.label,
            "amount": g.amount, "year": g.year}
           for g in Grant.objects.filter(campaign=campaign, state__in=PAID)
           .select_related("person__household__village").order_by("id")]
    paid = sum(r["amount"] for r in out)
    by_programme = {}
    for r in out:
        by_programme[r["programme"]] = by_programme.get(r["programme"], 0) + r["amount"]
    return {"campaign": campaign, "in": incoming, "cash_in": cash, "goods_in": goods, "out": out, "paid_out": paid,
            "balance": cash - paid, "by_programme": sorted(by_programme.items())}


def grants_in(scope: tuple[str, str], *, state: str = "", programme: str = ""):
    lo, hi = scope
    qs = Grant.objects.filter(person__household__village_id__gte=lo, person__household__village_id__lte=hi) \
        .select_related("person__household__village")
    if state:
        qs = qs.filter(state=state)
    if programme:
        qs = qs.filter(programme=programme)
    return qs.order_by("-year", "-id")


def donations_in(county: str):
    return Donation.objects.filter(Q(designation_id=county) | Q(designation_id__startswith=county[:6])) \
        .select_related("donor", "designation", "campaign").order_by("-date", "-id")
