"""Reads of the charity room: pledges against collections, and the public account of a
campaign (money in by donor, money out by programme, beneficiaries masked)."""
from __future__ import annotations

from django.db.models import Q, Sum

from .models import Campaign, Donation, DonationKind, DonorKind, Grant, GrantState, Pledge, SunshineClass

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
    # the county's grants of the same year paid outside any campaign (from the county charity fund or
    # a sponsor): public too, but not counted against the campaign's balance
    lo, hi = campaign.region.code_range()
    other = [{"name": mask_name(g.person.name), "village": g.person.household.village.name, "programme": g.label,
              "amount": g.amount, "year": g.year}
             for g in Grant.objects.filter(campaign__isnull=True, state__in=PAID, year=campaign.year,
                                           person__household__village_id__gte=lo, person__household__village_id__lte=hi)
             .select_related("person__household__village").order_by("id")]
    return {"campaign": campaign, "in": incoming, "cash_in": cash, "goods_in": goods, "out": out, "paid_out": paid,
            "balance": cash - paid, "by_programme": sorted(by_programme.items()),
            "other": other, "other_paid": sum(r["amount"] for r in other)}


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
    return Donation.objects.filter(Q(designation_id=county) | Q(designation__code__startswith=county[:6])) \
        .select_related("donor", "designation", "campaign").order_by("-date", "-id")


def notice_reason(grant: Grant) -> str:
    """Why the student is on the notice, as a public notice may say it: the checked conditions
    (household status, school or college), never an ID number or a birth date."""
    return "；".join(r[2:] for r in grant.explanation if r.startswith("√ "))


def public_notice_rows(scope: tuple[str, str], *, programme: str, year: int) -> list[dict]:
    """The notice's public page (no login): name, village, reason, amount and period only."""
    keep = ("name", "village", "reason", "amount", "from", "until", "instalment")
    return [{k: r[k] for k in keep} for r in notice_rows(scope, programme=programme, year=year)]


def notice_rows(scope: tuple[str, str], *, programme: str, year: int) -> list[dict]:
    """The public notice of a programme and year (公示资助对象): name, village, reason, amount."""
    lo, hi = scope
    grants = Grant.objects.filter(person__household__village_id__gte=lo, person__household__village_id__lte=hi,
                                  programme=programme, year=year, state=GrantState.NOTICE) \
        .select_related("person__household__village__parent").order_by("person__household__village_id", "person__name", "id")
    return [{"name": g.person.name, "village": f"{g.person.household.village.parent.name}{g.person.household.village.name}",
             "reason": notice_reason(g), "amount": g.amount, "from": g.notice_from, "until": g.notice_until,
             "label": g.label, "instalment": g.instalment} for g in grants]


def class_statement(cls: SunshineClass) -> dict:
    """What a sponsor's money paid: its earmarked donations, each grant paid to the class's
    students (names masked: surname only), and what is left in the class's fund."""
    gifts = [{"number": d.number, "date": d.date, "amount": d.amount}
             for d in cls.donations.filter(kind=DonationKind.CASH).order_by("date", "id")]
    paid = [{"name": mask_name(g.person.name), "village": g.person.household.village.name, "year": g.year,
             "instalment": g.instalment, "amount": g.amount, "date": g.transaction.date if g.transaction_id else None}
            for g in cls.grants.filter(state__in=PAID).select_related("person__household__village", "transaction")
            .order_by("year", "person__name", "id")]
    students = cls.grants.exclude(state=GrantState.REJECTED).values("person_id").distinct().count()
    given, spent = sum(r["amount"] for r in gifts), sum(r["amount"] for r in paid)
    return {"cls": cls, "in": gifts, "out": paid, "given": given, "spent": spent, "balance": given - spent,
            "students": students}
