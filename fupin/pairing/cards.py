"""The four cards (四卡) of a household. Every figure comes from the registry, the policy
engine or the ledger; nothing is typed twice."""
from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.utils import timezone

from fupin.core import idcard
from fupin.funds.models import Entry
from fupin.registry.models import Household
from fupin.policy import semester as semesters
from fupin.registry.choices import RELATION_ORDER

from .models import Measure, Pair, Visit


def card_data(user, household: Household, year: int) -> dict:
    from fupin.education.selectors import household_entitlements
    from fupin.health.services import categories, packs
    from fupin.labour.selectors import household_figures

    members = sorted(household.persons.filter(alive=True), key=lambda p: (RELATION_ORDER[p.relation], p.birth_date, p.pk))
    head = next((m for m in members if m.relation == "head"), None)
    on = dt.date(year, 6, 30) if year != timezone.localdate().year else timezone.localdate()
    # 明白卡: the policies the household is entitled to, computed now
    policies = [(f"{e['person'].name} {semesters.label(e['semester'])} {e['label']}", e["amount"])
                for e in household_entitlements(user, household, today=on)]
    # every social-assistance programme's benefit of each member this year (fupin/welfare)
    from fupin.welfare.selectors import household_benefits
    policies += [(f"{e.person.name} {e.get_programme_display()}（{e.category_label}，每月）", e.monthly_amount)
                 for e in household_benefits(user, household, today=on)]
    chain = packs().for_region(household.village_id)
    cats = set()
    for m in members:
        cats.update(categories(m, household.village_id, on))
    try:
        if cats & set(chain.lookup("health.topup.categories", on).value):
            share = chain.lookup("health.topup.cap_share", on).value
            policies.append((f"县域内住院、慢病门诊个人自付不超过总费用 {share * 100 // 1_000_000}%（一站式结算）", None))
        if cats & set(chain.lookup("health.waiver.categories", on).value):
            policies.append(("一般诊疗费、院内会诊费等减免", None))
    except Exception:  # no health pack for this region: the card says so rather than guessing
        policies.append(("本地尚未录入健康扶贫政策参数", None))
    pair = Pair.objects.filter(household=household, ended_on__isnull=True).select_related("helper__unit").first()
    visits = list(Visit.objects.filter(household=household, date__year=year).order_by("date"))
    measures = list(Measure.objects.filter(household=household, date__year=year).order_by("date"))
    payments = list(Entry.objects.filter(Q(account__person__in=members) | Q(account__household=household),
                                         amount__gt=0, transaction__date__year=year, reversals__isnull=True)
                    .select_related("transaction", "account").order_by("transaction__date"))
    from fupin.policy.rules import education as edu_rules, welfare as welfare_rules
    labels = {r.name: r.label for r in edu_rules.RULES + welfare_rules.RULES}
    for e in payments:
        e.label = labels.get(e.entitlement, "")   # the card names what was paid, never the rule's code
    income = household.incomes.order_by("-year").first()
    return {"household": household, "head": head, "members": members, "masked": {m.pk: idcard.mask(m.id_number) for m in members},
            "phone": idcard.mask_phone(household.phone),
            "policies": policies, "pair": pair, "visits": visits, "measures": measures, "payments": payments,
            "payments_total": sum(e.amount for e in payments), "income": income, "year": year,
            "measures_total": sum(m.money for m in measures), "labour": household_figures(household, year),
            **_training_and_college(members)}


def _training_and_college(members) -> dict:
    """The members' training (course, attendance, certificate) and college records with their aid,
    the same rows the household page shows."""
    from django.db.models import Count

    from fupin.education.models import CollegeStudent
    from fupin.labour.models import Enrolment

    training = list(Enrolment.objects.filter(person__in=members).select_related("course", "person")
                    .annotate(attended=Count("attendance")).order_by("course__start", "person_id"))
    college = list(CollegeStudent.objects.filter(person__in=members).select_related("person")
                   .prefetch_related("aid").order_by("person_id", "entry_year"))
    return {"training": training, "college": college}
