"""Basic-medical-insurance coverage of the poor (issue 17 §4, seed 004: 全额补助贫困人口参加基本医疗保险).

The yearly premium run pays the government's share of each eligible person's individual
contribution (资助参保/代缴) from the county's premium budget line into the basic insurance fund,
through the ledger's one writer, and records the person as insured for the year. The amount,
the categories and each category's share are pack data (`health.premium.*`), dated and
region-scoped. A person is never paid for twice in a year: the run skips who is insured, and
a unique constraint on (person, year) refuses a second row even when two runs race.

The insured rate counts the poor (anyone in one of the pack's categories) insured this year,
whether by the run or as recorded from the insurance office's list (who paid themselves or is
insured through an employer); the uninsured list is who is left.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from fupin.core import access, audit
from fupin.core.errors import FupinError, InvalidInput, NotFound
from fupin.core.models import AuditAction, Region, User
from fupin.core.roles import Cap
from fupin.policy.errors import PolicyError
from fupin.policy.money import yuan
from fupin.policy.packs import RATIO_SCALE

from .models import Coverage, PremiumRun, Scheme
from .services import packs

CATEGORY_LABELS = {"tekun": "特困人员", "registered_poor": "建档立卡贫困人口", "dibao": "低保对象",
                   "monitored": "防止返贫监测对象"}


@dataclass(frozen=True)
class Insuree:
    """One poor person as the lists show them: plain values (a county lists thousands)."""
    pk: int
    name: str
    village_id: str
    village_name: str
    category: str          # the category that gives the highest share ("" if none is paid)
    share: int             # millionths
    subsidy: int           # fen the run pays for them
    card_insured: bool     # what the household card (the registry's 参加城乡居民基本医疗保险) says

    @property
    def category_label(self) -> str:
        return CATEGORY_LABELS.get(self.category, "")


def premium_terms(region_code: str, year: int) -> dict:
    """The year's individual contribution (fen) and each category's share (millionths), from the
    pack of the region, as in force on 1 January of the year."""
    chain = packs().for_region(region_code)
    on = dt.date(year, 1, 1)
    try:
        categories = list(chain.lookup("health.premium.categories", on).value)
        return {"premium": chain.lookup("health.premium.individual", on).value,
                "shares": {c: chain.lookup(f"health.premium.share.{c}", on).value for c in categories},
                "target": chain.lookup("health.premium.coverage_target", on).value,
                "poor_statuses": set(chain.lookup("health.registered_poor_statuses", on).value),
                "monitored_statuses": set(chain.lookup("health.monitored_statuses", on).value)}
    except PolicyError:
        raise FupinError(f"{year} 年没有资助参保的政策（个人缴费标准或资助比例），请选择其他年度") from None


def _categories(assistance: str, status: str, terms: dict) -> list[str]:
    """The person's categories (the same reading as the settlement window's, from plain values)."""
    out = []
    if assistance in ("tekun", "dibao"):
        out.append(assistance)
    if status in terms["poor_statuses"]:
        out.append("registered_poor")
    if status in terms["monitored_statuses"]:
        out.append("monitored")
    return [c for c in out if c in terms["shares"]]


def _poor(user: User, region: Region, year: int, terms: dict) -> list[Insuree]:
    """Every living person of the region in one of the pack's categories, by village and name."""
    lo, hi = region.code_range()
    names = dict(Region.objects.filter(code__gte=lo, code__lte=hi, level=5).values_list("code", "name"))
    statuses = terms["poor_statuses"] | terms["monitored_statuses"]
    from django.db.models import Q

    rows = access.persons_for(user).filter(alive=True, household__village_id__gte=lo, household__village_id__lte=hi) \
        .filter(Q(household__status__in=statuses) | Q(assistance__in=("tekun", "dibao"))) \
        .order_by("household__village_id", "name", "pk") \
        .values_list("pk", "name", "household__village_id", "assistance", "household__status", "medical_insurance")
    out = []
    for pk, name, village, assistance, status, card in rows:
        cats = _categories(assistance or "", status, terms)
        if not cats:
            continue
        best = max(cats, key=lambda c: (terms["shares"][c], -len(c)))   # the highest share
        share = terms["shares"][best]
        out.append(Insuree(pk, name, village, names.get(village, village), best if share else cats[0], share,
                           terms["premium"] * share // RATIO_SCALE, card))
    return out


def coverage_status(user: User, region_code: str, year: int) -> dict:
    """The insured rate of the region's poor for the year (against the pack's target), by village;
    the uninsured; and who the premium run would pay for now (uninsured with a share above 0)."""
    region = access.access_region(user, region_code)
    terms = premium_terms(region.code, year)
    poor = _poor(user, region, year, terms)
    lo, hi = region.code_range()
    insured = set(Coverage.objects.filter(year=year, person__household__village_id__gte=lo,
                                          person__household__village_id__lte=hi).values_list("person_id", flat=True))
    villages: dict = {}
    for p in poor:
        row = villages.setdefault(p.village_id, {"code": p.village_id, "village": p.village_name, "persons": 0,
                                                 "insured": 0})
        row["persons"] += 1
        row["insured"] += p.pk in insured
    target = terms["target"]
    for row in villages.values():
        row["rate_permille"] = row["insured"] * 1000 // row["persons"]
        row["meets"] = row["insured"] * RATIO_SCALE >= target * row["persons"]
    n, k = len(poor), sum(1 for p in poor if p.pk in insured)
    uninsured = [p for p in poor if p.pk not in insured]
    due = [p for p in uninsured if p.subsidy > 0]
    return {"region": region, "year": year, "premium": terms["premium"], "persons": n, "insured": k,
            "rate_permille": k * 1000 // n if n else None, "target_permille": target * 1000 // RATIO_SCALE,
            "meets": k * RATIO_SCALE >= target * n, "villages": [villages[c] for c in sorted(villages)],
            "uninsured": uninsured, "due": due, "due_total": sum(p.subsidy for p in due),
            "shares": [(CATEGORY_LABELS.get(c, c), s * 1000 // RATIO_SCALE) for c, s in terms["shares"].items()]}


def _budget(region: Region, year: int):
    from fupin.funds import services as funds
    from fupin.funds.models import AccountKind, FundingSource

    county = funds.county_of(region.code)
    return funds.account_for(code=f"premium:{county}:{year}", name=f"资助参保资金{year}年", kind=AccountKind.BUDGET,
                             source=FundingSource.CITY_COUNTY, programme="health_premium", year=year, region_id=county)


def premium_run(*, actor: User, region_code: str, year: int, on: dt.date) -> PremiumRun:
    """Pay the year's premium subsidy of every uninsured poor person of the region whose category
    has a share: one transaction from the county's premium budget line (资助参保资金) to the basic
    insurance fund, one coverage row per person, one audit row — or nothing at all."""
    access.require(actor, Cap.PAY_PREMIUM, what=f"资助参保（代缴{year}年医保个人缴费）")
    region = access.access_region(actor, region_code)
    if region.level < 3:
        raise InvalidInput({"区划": "请选择一个县或其下的乡镇、村：资助参保资金按县列支"})
    status = coverage_status(actor, region.code, year)
    due = status["due"]
    if not due:
        raise FupinError(f"{region.name} {year} 年没有需要代缴的人员：符合资助条件的贫困人口均已参保")
    from fupin.funds import services as funds
    from fupin.funds.models import TxnKind

    total = status["due_total"]
    budget = _budget(region, year)
    fund = funds.insurer_account(region_code=region.code, key="insurer:basic", name="基本医疗保险基金")
    try:
        with transaction.atomic():
            n_before = PremiumRun.objects.filter(region=region, year=year).count()
            txn = funds.transaction_post(actor=actor, kind=TxnKind.PAYMENT, date=on, decision_type="premium_run",
                                         decision_id=f"{region.code}:{year}:{n_before + 1}",
                                         memo=f"代缴 {len(due)} 人医保个人缴费",
                                         lines=[funds.Line(budget, -total, "health.premium", str(year)),
                                                funds.Line(fund, total, "health.premium", str(year))])
            run = PremiumRun.objects.create(region=region, year=year, date=on, persons=len(due), total=total,
                                            transaction=txn, run_by=actor)
            Coverage.objects.bulk_create([Coverage(person_id=p.pk, year=year, scheme=Scheme.RESIDENT,
                                                   premium=status["premium"], subsidy=p.subsidy, category=p.category,
                                                   run=run, recorded_by=actor) for p in due], batch_size=2000)
            audit.record(actor, AuditAction.CREATE, object_type="premium_run", object_id=run.pk,
                         summary=f"资助参保：代缴 {region.name} {year} 年城乡居民医保个人缴费 {len(due)} 人，"
                                 f"共 {yuan(total)} 元")
    except IntegrityError:   # another run (or a recorded coverage) took some of these persons meanwhile
        raise FupinError("其中有人刚刚由另一次代缴或参保登记记为已参保，本次未代缴；请刷新后重新办理") from None
    return run


def premium_run_reverse(*, actor: User, pk, reason: str, on: dt.date) -> PremiumRun:
    """Reverse a premium run: exactly the negative of its ledger transaction (through the ledger's
    one writer), with a reason; its persons count as uninsured again (their roster is kept on the
    run), one audit row — or nothing at all. Only the premium capability, in the run's region."""
    access.require(actor, Cap.PAY_PREMIUM, what=f"冲销资助参保代缴 {pk}")
    run = access_run(actor, pk)
    if not reason.strip():
        raise InvalidInput({"冲销原因": "必须填写"})
    from fupin.funds import services as funds

    with transaction.atomic():
        run = PremiumRun.objects.select_for_update().get(pk=run.pk)
        if run.reversal_id:
            raise FupinError(f"{run.date.isoformat()} 的这次代缴已冲销过")
        rev = funds.ledger_reverse(actor=actor, txn=run.transaction, reason=f"冲销资助参保代缴：{reason.strip()}", date=on)
        roster = list(run.coverages.order_by("pk").values_list("person_id", "subsidy"))
        run.coverages.all().delete()
        run.reversal, run.reversal_reason, run.reversed_by = rev, reason.strip()[:200], actor
        run.reversed_roster = [list(r) for r in roster]
        run.save(update_fields=["reversal", "reversal_reason", "reversed_by", "reversed_roster"])
        audit.record(actor, AuditAction.UPDATE, object_type="premium_run", object_id=run.pk,
                     summary=f"冲销资助参保：{run.region.name} {run.year} 年代缴 {len(roster)} 人，"
                             f"共 {yuan(run.total)} 元；原因：{reason.strip()}")
    return run


def premium_runs(user: User, region_code: str, year: int):
    """The premium runs of a region's year (its own and those of its subregions), newest first."""
    region = access.access_region(user, region_code)
    lo, hi = region.code_range()
    return region, PremiumRun.objects.filter(year=year, region_id__gte=lo, region_id__lte=hi) \
        .select_related("region", "run_by", "reversed_by").order_by("-date", "-pk")


def coverage_record(*, actor: User, person, year: int, scheme: str) -> Coverage:
    """A person the insurance office reports as insured this year without the run (paid their own
    contribution, or insured through an employer): counted as insured, nothing paid."""
    from .programmes import _access_patient

    _access_patient(actor, person, Cap.RECORD_CONDITION, f"登记{year}年参保")
    if scheme not in Scheme.values:
        raise InvalidInput({"险种": "请从列表中选择"})
    try:
        with transaction.atomic():
            c = Coverage.objects.create(person=person, year=year, scheme=scheme, recorded_by=actor)
            audit.record(actor, AuditAction.CREATE, object_type="coverage", object_id=c.pk,
                         household_id=person.household_id,
                         summary=f"登记 {person.name} {year} 年已参加{Scheme(scheme).label}")
    except IntegrityError:
        raise FupinError(f"{person.name} {year} 年已登记参保") from None
    return c


def access_run(user: User, pk) -> PremiumRun:
    access.require(user, Cap.READ)
    run = PremiumRun.objects.select_related("region").filter(pk=pk).first() if str(pk).isdigit() else None
    if run is None or not access.in_scope(user, run.region_id):
        raise NotFound("找不到该次代缴，或不在您的管辖范围内")
    return run


def covered(user: User, region_code: str, year: int):
    """Who is insured for the year in the region (the run's roster, 代缴花名册, and the recorded ones)."""
    region = access.access_region(user, region_code)
    lo, hi = region.code_range()
    return region, Coverage.objects.filter(person__in=access.persons_for(user), year=year,
                                           person__household__village_id__gte=lo,
                                           person__household__village_id__lte=hi) \
        .select_related("person__household__village", "run").order_by("person__household__village_id", "person__name", "pk")


def coverage_import(user: User, data: bytes, filename: str, year: int):
    """The insurance office's list of the insured of a year (身份证号, optional 险种: 城乡居民/职工):
    persons of the user's region are recorded as insured (nothing paid); who is already insured
    that year is left as is; one bad row and nothing is saved. Returns (created, unchanged, problems)."""
    from fupin.core import idcard
    from fupin.exchange import excel
    from fupin.exchange.excel import CellError, Column, FileRejected, Problem

    access.require(user, Cap.RECORD_CONDITION, what=f"导入{year}年参保名单")
    labels = {label: value for value, label in Scheme.choices} | {"城乡居民": Scheme.RESIDENT, "职工": Scheme.EMPLOYEE}

    def pid(v):
        r = idcard.check(v)
        if not r.valid:
            raise CellError(r.error)
        return r.id

    def scheme(v):
        if excel.is_blank(v):
            return Scheme.RESIDENT
        if str(v).strip() not in labels:
            raise CellError(f"“{v}”不是险种；可填：城乡居民、职工")
        return labels[str(v).strip()]
    try:
        table = excel.read_table(data, [Column("id_number", "身份证号", pid, required=True, aliases=("证件号码", "公民身份号码")),
                                        Column("scheme", "险种", scheme)], filename=filename)
    except FileRejected as exc:
        return 0, 0, [Problem(None, None, None, None, exc.message)]
    ids = {v["id_number"] for _, v in table.rows if v.get("id_number")}
    people = {p.id_number: p for p in access.persons_for(user).filter(id_number__in=ids)}
    problems = list(table.problems)
    for row, v in table.rows:
        if v.get("id_number") and v["id_number"] not in people:
            problems.append(Problem(row, "A", "身份证号", idcard.mask(v["id_number"]), "此人不在本辖区户籍库中"))
    if problems:
        return 0, 0, problems
    have = set(Coverage.objects.filter(year=year, person__in=people.values()).values_list("person_id", flat=True))
    new, seen = [], set()
    for _, v in table.rows:
        person = people[v["id_number"]]
        if person.pk in have or person.pk in seen:
            continue
        seen.add(person.pk)
        new.append(Coverage(person=person, year=year, scheme=v.get("scheme", Scheme.RESIDENT), recorded_by=user))
    try:
        with transaction.atomic():
            Coverage.objects.bulk_create(new, batch_size=2000)
            audit.record(user, AuditAction.IMPORT, object_type="coverage", object_id=filename[:60],
                         summary=f"导入{year}年参保名单：新增 {len(new)}、已有 {len(table.rows) - len(new)}")
    except IntegrityError:
        raise FupinError("其中有人刚刚被登记为已参保，本次未导入；请重新导入") from None
    return len(new), len(table.rows) - len(new), []
