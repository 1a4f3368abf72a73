"""Reads of the registry, always starting from the user's scope (fupin.core.access)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.db.models.functions import Substr

from fupin.core import access, idcard
from fupin.core.errors import InvalidInput, NotFound
from fupin.core.models import AuditEvent, PREFIX_LEN, User
from fupin.core.roles import Cap

from .choices import RELATION_ORDER, GuaranteeItem, Relation
from .models import Household, Person

PAGE_SIZE = 50
# counted exactly up to here; a province-wide search (“王”) matches ~100,000 households, and
# counting all of them on every page costs more than the page: “more than 500” is shown instead
COUNT_LIMIT = 500
_TAIL = re.compile(r"^[0-9X]{4,17}$")


@dataclass
class SearchQuery:
    q: str = ""
    region: str = ""
    status: str = ""
    attribute: str = ""
    cause: str = ""
    page: int = 1
    from_url: bool = False   # the query came in a URL (GET): no ID digits there
    typing: bool = False     # sent by the live search as the officer types: ID digits wait for 查询 (Enter)


@dataclass
class SearchResult:
    rows: list
    total: int
    page: int
    pages: int
    query: SearchQuery
    errors: list[str] = field(default_factory=list)
    more: bool = False   # more than `total` (= COUNT_LIMIT) households match: the count stopped there


def _persons_matching(user: User, text: str, from_url: bool, typing: bool, refusals: list[str], by_id: list[str]):
    """Person rows matching a name prefix, a full ID number, or the last digits of one; None when
    the text can only be a household number (which may be all digits too).

    Searching by ID digits is itself a way to read IDs: a role that may not see full IDs could
    try 0000…9999 against each person and learn their last digits. So a full ID is searched
    only by roles that find people by full ID, and the last digits only by roles that may see
    full IDs anyway — and neither from a URL, which ends up in access logs and browser history.
    Even then each such search is audited, and searches that find nobody are limited
    (`access.id_search_check`): `by_id` gets the search's description for its audit row.
    Everyone may search by name and household number."""
    from fupin.core.roles import Cap

    value = idcard.normalize(text)
    full = len(value) == 18 and _TAIL.match(value[:17]) and _TAIL.match(value[-4:])
    if not (full or _TAIL.match(value)):
        return Q(name__gte=text, name__lt=text + "\uffff")
    if from_url:
        refusals.append("身份证号请在查询框中输入后点“查询”，不要放在网址中")
    elif typing:   # half an ID typed is no search (each would be audited and counted)
        refusals.append("输入完整的身份证号（或其后几位）后，请按回车或点“查询”")
    elif full:
        if access.may(user, Cap.FIND_BY_FULL_ID):
            access.id_search_check(user)
            by_id.append(f"按身份证号 {idcard.mask(value)} 查找")
            return Q(id_number=value)
        refusals.append("您的角色不能按身份证号查找，请按姓名或户编号查询")
    elif access.may(user, Cap.REVEAL_ID):
        access.id_search_check(user)
        by_id.append(f"按身份证号后 {len(value)} 位查找")
        rev = value[::-1]
        return Q(id_reversed__gte=rev, id_reversed__lt=rev + "\uffff")
    else:
        refusals.append("您的角色不能按身份证号的后几位查找，请按姓名或户编号查询")
    return None


def search_households(user: User, query: SearchQuery) -> SearchResult:
    qs = access.households_for(user)
    errors = []
    if query.region:
        if not re.fullmatch(r"\d{12}", query.region):
            errors.append(f"区划代码“{query.region}”应为12位数字")
        else:
            region = access.access_region(user, query.region)
            lo, hi = region.code_range()
            qs = qs.filter(village_id__gte=lo, village_id__lte=hi)
    if query.status:
        qs = qs.filter(status=query.status)
    if query.attribute:
        qs = qs.filter(attribute=query.attribute)
    if query.cause:
        qs = qs.filter(Q(main_cause=query.cause) | Q(other_cause_1=query.cause) | Q(other_cause_2=query.cause))
    text = query.q.strip()
    refusals: list[str] = []
    by_id: list[str] = []
    if text:
        persons = _persons_matching(user, text, query.from_url, query.typing, refusals, by_id)
        by_number = Q(number=text)
        if persons is None:
            qs = qs.filter(by_number)
        elif Household.objects.filter(by_number).exists():
            # the text is a household number and maybe ID digits too: few households either way
            qs = qs.filter(Q(pk__in=Person.objects.filter(persons).values("household_id")) | by_number)
        else:
            # no `OR number = …` here: with it PostgreSQL tests every household of the scope row by
            # row; a plain IN lets it walk households in number order and stop at the page's end
            qs = qs.filter(pk__in=Person.objects.filter(persons).values("household_id"))
    total = qs.order_by()[:COUNT_LIMIT + 1].count()
    more = total > COUNT_LIMIT
    total = min(total, COUNT_LIMIT)
    if by_id:
        access.id_searched(user, by_id[0], total)
    if refusals and not total:  # digits that were not a household number either: say why
        errors += refusals
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, query.page), pages)
    rows = list(
        qs.select_related("village__parent").order_by("number")[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    )
    heads = {p.household_id: p for p in Person.objects.filter(
        household_id__in=[h.pk for h in rows], relation="head", alive=True)}
    sizes = dict(Person.objects.filter(household_id__in=[h.pk for h in rows], alive=True)
                 .values_list("household_id").annotate(n=Count("id")))
    for h in rows:
        h.head = heads.get(h.pk)
        h.size = sizes.get(h.pk, 0)
    return SearchResult(rows=rows, total=total, page=page, pages=pages, query=query, errors=errors, more=more)


@dataclass
class HouseholdDetail:
    household: Household
    members: list
    former_members: list
    incomes: list
    guarantees: dict  # item → list of checks, newest first
    timeline: list
    size: int

    @property
    def head(self):
        """The living head of household: officials name a household by its head (“阿明慧户”)."""
        return next((p for p in self.members if p.relation == Relation.HEAD), None)


def household_detail(user: User, pk: int) -> HouseholdDetail:
    """Everything the household page shows, in a fixed number of queries."""
    h = access.access_household(user, pk)
    # by birth year, not date: the page shows the year only (idcard.mask)
    people = sorted(h.persons.all(), key=lambda p: (not p.alive, RELATION_ORDER[p.relation], p.birth_date.year, p.pk))
    incomes = list(h.incomes.all())
    checks: dict = {item: [] for item in GuaranteeItem}   # keyed by the choice: its label on the page, checked or not
    for g in h.guarantees.all():
        checks[g.item].append(g)
    timeline = list(AuditEvent.objects.filter(household_id=h.pk, result="ok")
                    .exclude(action__in=["reveal", "export"]).order_by("-at", "-id")[:200])
    living = [p for p in people if p.alive]
    return HouseholdDetail(household=h, members=living, former_members=[p for p in people if not p.alive],
                           incomes=incomes, guarantees=checks, timeline=timeline, size=len(living))


def region_overview(user: User, code: str):
    """A region with its children, each child's household count and the status counts."""
    region = access.access_region(user, code)
    lo, hi = region.code_range()
    households = access.households_for(user).filter(village_id__gte=lo, village_id__lte=hi)
    children = list(region.children.all())
    counts = {}
    if children and region.level < 5:
        n = PREFIX_LEN[region.level + 1]
        counts = dict(households.annotate(p=Substr("village_id", 1, n)).values_list("p")
                      .annotate(c=Count("id")).values_list("p", "c"))
    for c in children:
        c.household_count = counts.get(c.prefix, 0)
    by_status = dict(households.values_list("status").annotate(c=Count("id")).values_list("status", "c"))
    ancestors = []
    node = region.parent
    while node is not None:
        ancestors.insert(0, node)
        node = node.parent
    return region, ancestors, children, by_status


def where_registered(user: User, number: str | None, village_code: str | None) -> str:
    """Where a person already stands, for a refusal message: the household number only when the
    household lies in the user's region (a message never names another region's household)."""
    if number is None:
        return "库中（已迁出）"
    return f"户 {number}" if access.in_scope(user, village_code) else "其他辖区的户中"


def reveal(user: User, target, what: str) -> str:
    """Show a full ID number (target: a person) or bank account (target: a household): allowed
    roles only, and every showing is logged."""
    from fupin.core import audit
    from fupin.core.models import AuditAction
    from fupin.core.roles import Cap

    if what == "id":
        access.require(user, Cap.REVEAL_ID, what="查看完整身份证号")
        audit.record(user, AuditAction.REVEAL, object_type="person", object_id=target.pk,
                     household_id=target.household_id, summary=f"查看{target.name}的完整身份证号")
        return target.id_number
    if what == "phone":
        access.require(user, Cap.REVEAL_ID, what="查看完整联系电话")
        audit.record(user, AuditAction.REVEAL, object_type="household", object_id=target.pk, household_id=target.pk,
                     summary=f"查看户 {target.number} 的完整联系电话")
        return target.phone
    access.require(user, Cap.REVEAL_BANK, what="查看完整银行账号")
    audit.record(user, AuditAction.REVEAL, object_type="household", object_id=target.pk, household_id=target.pk,
                 summary=f"查看户 {target.number} 的完整银行账号")
    return target.bank_account


def person_by_id_number(user: User, id_number: str) -> Person | None:
    """The person with this (checked) ID number and their household, if inside the user's scope:
    one precompiled read, as the window looks a patient up on every settlement. That read also
    counts the user's recent lookups that found nobody: over the limit, the user is refused
    whatever the number (`access.id_search_check`); a lookup that finds nobody is recorded."""
    from fupin.core import sql

    access.require(user, Cap.READ)   # as access.persons_for
    misses, params = access.id_misses_query(user)
    row = sql.fetch_one(
        f"SELECT ({misses}), {sql.columns(Person, 'p')}, {sql.columns(Household, 'h')} FROM (SELECT 1) one "
        f"LEFT JOIN {sql.table(Person)} p ON p.id_number = %s LEFT JOIN {sql.table(Household)} h ON h.id = p.household_id",
        [*params, id_number])
    access.id_search_check(user, row[0])
    person = sql.instance(Person, row, 1, "p")
    household = sql.instance(Household, row, 1 + sql.width(Person), "h")
    if person is None or household is None or not access.in_scope(user, household.village_id):
        access.id_searched(user, f"按身份证号 {idcard.mask(id_number)} 查找", 0)
        return None
    Person.household.field.set_cached_value(person, household)
    return person


def find_person(user: User, raw_id: str, field: str = "身份证号") -> Person:
    """The person a form names by ID number, in the user's scope: a wrong number says what is
    wrong with it (and is not a lookup); a number that finds nobody in scope is a Chinese 404."""
    checked = idcard.check(raw_id)
    if not checked.valid:
        raise InvalidInput({field: checked.error})
    person = person_by_id_number(user, checked.id)
    if person is None:
        raise NotFound(f"身份证号 {idcard.mask(checked.id)} 不在您管辖范围的户籍库中")
    return person
