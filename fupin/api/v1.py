"""REST API v1: regions, households, persons and membership events.

Token authentication (Authorization: Bearer fp_…); the same access_* scope as the screens;
the OpenAPI document is served at /api/v1/openapi.json.
"""
from __future__ import annotations

import datetime as dt
from typing import Optional, Union

from ninja import Schema, Status
from ninja.security import HttpBearer
from pydantic import BaseModel

from fupin.core import access, idcard, services as core_services
from fupin.core.errors import FupinError, InvalidInput, NotFound
from fupin.core.models import Region
from fupin.core.roles import Cap
from fupin.registry import selectors, services
from fupin.registry.choices import EventKind
from fupin.registry.models import Household, MembershipEvent, Person

from .errors import FupinAPI, install_error_handlers


class TokenAuth(HttpBearer):
    def authenticate(self, request, token):
        """A bearer token is the machine's second factor: the API asks for no TOTP code. A token
        is created only by the `fupin token create` command on the server or on /account/tokens/
        by a session that passed the second factor (roles.needs_second_factor); core.services.
        token_user refuses it at once when revoked or when its account is disabled, locked,
        expired or its password has expired."""
        user = core_services.token_user(token)
        if user is not None:
            request.user = user
        return user


api = FupinAPI(title="fupin API", version="1", urls_namespace="api-v1", auth=TokenAuth(),
               description="扶贫信息系统接口。所有读写都按令牌所属用户的区划与角色限定范围。"
                           "出错时返回 {detail, errors}（中文），各接口的 400/401/403/404/422 均在文档中声明。")
install_error_handlers(api)   # 422 in Chinese naming each field; 401, bad JSON, too-large numbers


@api.exception_handler(FupinError)
def _fupin_error(request, exc: FupinError):
    body = {"detail": exc.message}
    if isinstance(exc, InvalidInput):
        body["errors"] = exc.errors
    return api.create_response(request, body, status=exc.status)


class RegionOut(Schema):
    code: str
    name: str
    level: int
    parent: Optional[str]


class PersonOut(Schema):
    id: int
    household_id: Optional[int]
    name: str
    sex: str
    id_number_masked: str
    birth_year: int          # never the birth date, nor the age as well: see fupin.core.idcard.mask
    relation: str
    health: str
    labour: str
    schooling: str
    assistance: str
    medical_insurance: bool
    alive: bool
    death_date: Optional[dt.date]


class HouseholdOut(Schema):
    id: int
    number: str
    village: str
    standard: str
    attribute: str
    main_cause: str
    other_causes: list[str]
    status: str
    status_since: Optional[dt.date]
    size: int


class HouseholdDetailOut(HouseholdOut):
    members: list[PersonOut]


class HouseholdPage(Schema):
    total: int
    more: bool = False   # true: more than `total` households match (the count stops there)
    page: int
    pages: int
    items: list[HouseholdOut]


class HouseholdIn(Schema):
    number: str
    village: str
    standard: str = "national"
    attribute: str
    main_cause: str
    other_cause_1: str = ""
    other_cause_2: str = ""
    status: Optional[str] = None    # only "applied": a status is a workflow's decision
    status_since: Optional[dt.date] = None
    phone: str = ""
    address: str = ""
    housing_grade: str = ""
    bank_name: str = ""
    bank_account: str = ""


class HouseholdPatch(Schema):
    village: Optional[str] = None
    standard: Optional[str] = None
    attribute: Optional[str] = None
    main_cause: Optional[str] = None
    other_cause_1: Optional[str] = None
    other_cause_2: Optional[str] = None
    phone: Optional[str] = None
    address: Optional[str] = None
    housing_grade: Optional[str] = None
    bank_name: Optional[str] = None
    bank_account: Optional[str] = None


class PersonIn(Schema):
    name: str
    id_number: str
    relation: str
    labour: str
    sex: str = ""
    birth_date: Optional[dt.date] = None
    ethnicity: str = "汉族"
    education: str = ""
    schooling: str = "not_in_school"
    health: str = "healthy"
    medical_insurance: bool = True
    pension_insurance: bool = False
    assistance: str = "none"
    migrant_months: int = 0
    kind: str = EventKind.REGISTER
    date: Optional[dt.date] = None
    note: str = ""


class PersonPatch(Schema):
    name: Optional[str] = None
    relation: Optional[str] = None
    ethnicity: Optional[str] = None
    education: Optional[str] = None
    schooling: Optional[str] = None
    health: Optional[str] = None
    labour: Optional[str] = None
    migrant_months: Optional[int] = None
    medical_insurance: Optional[bool] = None
    pension_insurance: Optional[bool] = None
    assistance: Optional[str] = None


class EventIn(Schema):
    kind: str
    date: dt.date
    to_household: Optional[int] = None
    relation: str = "other"
    note: str = ""


class EventOut(Schema):
    id: int
    kind: str
    person_id: int
    from_household: Optional[int]
    to_household: Optional[int]
    date: Optional[dt.date]  # null for a birth: its date is the birth date (see PersonOut.birth_year)
    note: str


def _region(r: Region) -> dict:
    return {"code": r.code, "name": r.name, "level": r.level, "parent": r.parent_id}


def _person(p: Person) -> dict:
    return {"id": p.pk, "household_id": p.household_id, "name": p.name, "sex": p.sex,
            "id_number_masked": idcard.mask(p.id_number), "birth_year": idcard.birth_year(p.birth_date),
            "relation": p.relation,
            "health": p.health, "labour": p.labour, "schooling": p.schooling, "assistance": p.assistance,
            "medical_insurance": p.medical_insurance, "alive": p.alive, "death_date": p.death_date}


def _household(h: Household, size: int) -> dict:
    return {"id": h.pk, "number": h.number, "village": h.village_id, "standard": h.standard,
            "attribute": h.attribute, "main_cause": h.main_cause,
            "other_causes": [c for c in (h.other_cause_1, h.other_cause_2) if c],
            "status": h.status, "status_since": h.status_since, "size": size}


def _event(e: MembershipEvent) -> dict:
    return {"id": e.pk, "kind": e.kind, "person_id": e.person_id, "from_household": e.from_household_id,
            "to_household": e.to_household_id, "date": None if e.kind == EventKind.BIRTH else e.date,
            "note": e.note}


@api.get("/regions", response=list[RegionOut], tags=["区划"], summary="下级区划列表")
def list_regions(request, parent: Optional[str] = None):
    if parent is None:
        return [_region(access.access_region(request.auth, request.auth.region_id))]
    region = access.access_region(request.auth, parent)
    return [_region(r) for r in region.children.all()]


@api.get("/regions/{code}", response=RegionOut, tags=["区划"])
def get_region(request, code: str):
    return _region(access.access_region(request.auth, code))


class HouseholdSearchIn(Schema):
    q: str = ""              # name, household number, full ID number or its last digits
    region: str = ""
    status: str = ""
    attribute: str = ""
    cause: str = ""
    page: int = 1


def _search(request, query: selectors.SearchQuery) -> dict:
    result = selectors.search_households(request.auth, query)
    if result.errors:
        raise FupinError("；".join(result.errors))
    return {"total": result.total, "more": result.more, "page": result.page, "pages": result.pages,
            "items": [_household(h, h.size) for h in result.rows]}


@api.get("/households", response=HouseholdPage, tags=["户"], summary="查询户（按姓名、户编号）",
         description="身份证号（完整或后几位）不放在网址里（访问日志会记下），请用 POST /households/search。")
def list_households(request, q: str = "", region: str = "", status: str = "", attribute: str = "",
                    cause: str = "", page: int = 1):
    return _search(request, selectors.SearchQuery(q=q, region=region, status=status, attribute=attribute,
                                                  cause=cause, page=page, from_url=True))


@api.post("/households/search", response=HouseholdPage, tags=["户"], summary="查询户（含按身份证号）",
          description="完整身份证号需“按完整身份证号查找”权限，后几位需“查看完整身份证号”权限。每次按身份证号查找都记入审计日志；"
                      "一小时内查找而未找到的次数达到上限（FUPIN_ID_SEARCH_MAX_MISSES，默认 30）后，按身份证号查找暂停（403）。")
def households_search(request, payload: HouseholdSearchIn):
    return _search(request, selectors.SearchQuery(**payload.dict()))


@api.get("/households/{household_id}", response=HouseholdDetailOut, tags=["户"])
def get_household(request, household_id: int):
    d = selectors.household_detail(request.auth, household_id)
    return {**_household(d.household, d.size), "members": [_person(p) for p in d.members + d.former_members]}


@api.post("/households", response={201: HouseholdOut}, tags=["户"])
def create_household(request, payload: HouseholdIn):
    data = payload.dict()
    data["village"] = access.access_village_for_write(request.auth, data["village"])
    h = services.household_create(actor=request.auth, data=data)
    return Status(201, _household(h, 0))


@api.patch("/households/{household_id}", response=HouseholdOut, tags=["户"])
def update_household(request, household_id: int, payload: HouseholdPatch):
    h = access.access_household(request.auth, household_id, Cap.WRITE)
    data = {k: v for k, v in payload.dict().items() if v is not None}
    if "village" in data:
        data["village"] = access.access_village_for_write(request.auth, data["village"])
    h = services.household_update(actor=request.auth, household=h, data=data)
    return _household(h, h.persons.filter(alive=True).count())


@api.get("/persons/{person_id}", response=PersonOut, tags=["人员"])
def get_person(request, person_id: int):
    return _person(access.access_person(request.auth, person_id))


@api.post("/households/{household_id}/persons", response={201: PersonOut}, tags=["人员"],
          summary="登记成员（登记、出生、婚入、迁入）")
def create_person(request, household_id: int, payload: PersonIn):
    h = access.access_household(request.auth, household_id, Cap.WRITE)
    data = payload.dict()
    kind, date, note = data.pop("kind"), data.pop("date"), data.pop("note")
    p = services.person_register(actor=request.auth, household=h, data=data, kind=kind, date=date, note=note)
    return Status(201, _person(p))


@api.patch("/persons/{person_id}", response=PersonOut, tags=["人员"])
def update_person(request, person_id: int, payload: PersonPatch):
    p = access.access_person(request.auth, person_id, Cap.WRITE)
    data = {k: v for k, v in payload.dict().items() if v is not None}
    data.setdefault("id_number", p.id_number)
    return _person(services.person_update(actor=request.auth, person=p, data=data))


@api.get("/households/{household_id}/events", response=list[EventOut], tags=["成员变动"])
def list_events(request, household_id: int):
    h = access.access_household(request.auth, household_id)
    from django.db.models import Q
    return [_event(e) for e in MembershipEvent.objects.filter(Q(from_household=h) | Q(to_household=h))]


@api.post("/persons/{person_id}/events", response={201: EventOut}, tags=["成员变动"],
          summary="登记成员变动（死亡、婚出、迁出、户间迁移）")
def create_event(request, person_id: int, payload: EventIn):
    p = access.access_person(request.auth, person_id, Cap.WRITE)
    kind = payload.kind
    if kind == EventKind.DEATH:
        services.person_death(actor=request.auth, person=p, date=payload.date, note=payload.note)
    elif kind in (EventKind.MARRIAGE_OUT, EventKind.MOVE_OUT):
        services.person_leave(actor=request.auth, person=p, kind=kind, date=payload.date, note=payload.note)
    elif kind in (EventKind.MOVE, EventKind.MARRIAGE_IN):
        if payload.to_household is None:
            raise InvalidInput({"to_household": "户间迁移须指定迁入户"})
        target = access.access_household(request.auth, payload.to_household, Cap.WRITE)
        services.person_move(actor=request.auth, person=p, to_household=target, date=payload.date,
                             relation=payload.relation, kind=kind, note=payload.note)
    else:
        raise InvalidInput({"kind": f"不支持的变动类型“{kind}”；可选 death、marriage_out、move_out、move、marriage_in"})
    event = MembershipEvent.objects.filter(person=p).order_by("-id").first()
    if event is None:
        raise NotFound("变动未登记")
    return Status(201, _event(event))


# ---- settlement for hospital information systems ------------------------------------------------

# The window's schemas are plain pydantic models: ninja's Schema reads each field through a getter
# made for ORM objects, and a claim's request and answer are plain data (parsing a claim and
# answering it took 37% less CPU, measured; the OpenAPI schema is the same)
class SettlementIn(BaseModel):
    hospital: str                   # hospital code
    id_number: str                  # the patient's resident ID number
    number: str = ""                # the hospital's claim number (required to settle)
    visit_type: str
    discharge_date: dt.date
    in_county: bool
    referred: bool = False
    total: str                      # yuan, e.g. "100000.00"
    in_policy: str
    waivable: str = "0"


class PayerOut(BaseModel):
    rule: str
    label: str
    amount: str


class SettlementOut(BaseModel):
    claim_id: Optional[int] = None
    categories: list[str]
    payers: list[PayerOut]
    patient: str
    shortfall: str
    total: str


def _settlement_args(request, payload: SettlementIn):
    from fupin.health.services import find_patient, hospital_by_code, parse_bill_amounts

    hospital = hospital_by_code(payload.hospital)
    if hospital is None or not access.in_scope(request.auth, hospital.region_id):
        raise NotFound(f"找不到医疗机构 {payload.hospital}，或不在您的管辖范围内")
    person = find_patient(request.auth, payload.id_number)
    bill = {"discharge_date": payload.discharge_date, "visit_type": payload.visit_type, "in_county": payload.in_county,
            "referred": payload.referred}
    bill |= parse_bill_amounts({"total": payload.total, "in_policy": payload.in_policy, "waivable": payload.waivable})
    return hospital, person, bill


@api.post("/settlements/preview", response=SettlementOut, tags=["结算"], summary="试算（不入账）")
def settlement_preview(request, payload: SettlementIn):
    from fupin.health import services as health

    hospital, person, bill = _settlement_args(request, payload)
    r = health.preview(user=request.auth, hospital=hospital, person=person, bill=bill)
    return {"categories": r["claim"]["categories"], "payers": r["payers"], "patient": r["patient"],
            "shortfall": r["shortfall"], "total": r["total"]}


@api.post("/settlements", response={201: SettlementOut}, tags=["结算"], summary="结算（入账，同一流水号只能结算一次）")
def settlement_create(request, payload: SettlementIn):
    from fupin.health import services as health
    from fupin.policy.rules.health import yuan

    hospital, person, bill = _settlement_args(request, payload)
    claim = health.settle(user=request.auth, hospital=hospital, person=person, number=payload.number, bill=bill)
    labels = claim.explanation.get("_labels", {})
    return Status(201, {"claim_id": claim.pk, "categories": claim.categories,
                        "payers": [{"rule": k, "label": labels.get(k, k), "amount": yuan(v)} for k, v in claim.breakdown.items()],
                        "patient": yuan(claim.patient), "shortfall": yuan(claim.shortfall), "total": yuan(claim.total)})


class ReverseIn(Schema):
    reason: str


@api.post("/settlements/{claim_id}/reverse", response=SettlementOut, tags=["结算"], summary="冲销")
def settlement_reverse(request, claim_id: int, payload: ReverseIn):
    from fupin.health import services as health
    from fupin.policy.rules.health import yuan

    claim = health.reverse(user=request.auth, claim_id=claim_id, reason=payload.reason)
    return {"claim_id": claim.pk, "categories": claim.categories, "payers": [], "patient": yuan(claim.patient),
            "shortfall": yuan(claim.shortfall), "total": yuan(claim.total)}


# ---- calculations (no database) ---------------------------------------------------------------------

@api.post("/calc/{model}", tags=["计算"], summary="按政策试算教育资助或一站式结算（与 fupin calc 相同，不读写数据库）")
def calculate(request, model: str, pack: str = ""):
    """Body: the JSON `fupin calc education|settlement` reads (one student or a list of them;
    one claim, docs/settlement.md). `pack`: a shipped pack's name, as `--pack`; empty: each
    case's region chooses its pack. A document that cannot be computed gets 400 and a Chinese
    `detail` saying what is wrong; never a 500."""
    from fupin.policy import calculators
    from fupin.policy.errors import PolicyError

    try:
        doc = calculators.parse_json(request.body, "请求体")
        return calculators.calculate(model, doc, calculators.shipped_chain(pack) if pack else None)
    except PolicyError as exc:
        raise FupinError(exc.message) from None


# ---- workflows -------------------------------------------------------------------------------------

class WorkflowStartIn(Schema):
    household_id: int
    kind: str
    comment: str = ""
    channel: str = ""
    monitored_type: str = ""


class WorkflowActIn(Schema):
    step_key: str
    decision: str          # approve | reject
    comment: str = ""
    verifiers: list[str] = []
    override_reason: str = ""


class WorkflowOut(Schema):
    id: int
    household_id: int
    kind: str
    state: str
    step: Optional[str]
    step_due: Optional[dt.date]
    deadline: Optional[dt.date]


class ObjectionIn(Schema):
    by_name: str
    content: str


class NoticeOut(Schema):
    id: int
    title: str
    start: dt.date
    end: dt.date
    token: str
    objections: int
    unanswered: int


def _workflow(i) -> dict:
    cur = i.current
    return {"id": i.pk, "household_id": i.household_id, "kind": i.kind, "state": i.state,
            "step": cur["key"] if cur else None, "step_due": i.step_due, "deadline": i.deadline}


@api.post("/workflows", response={201: WorkflowOut}, tags=["流程"], summary="发起流程")
def workflow_start(request, payload: WorkflowStartIn):
    from fupin.workflows import services as wf

    h = access.access_household(request.auth, payload.household_id)
    i = wf.start(actor=request.auth, household=h, kind=payload.kind, comment=payload.comment,
                 channel=payload.channel, monitored_type=payload.monitored_type)
    return Status(201, _workflow(i))


@api.post("/workflows/{instance_id}/act", response=WorkflowOut, tags=["流程"], summary="办理当前步骤（通过或退回）")
def workflow_act(request, instance_id: int, payload: WorkflowActIn):
    from fupin.workflows import services as wf

    i = wf.act(actor=request.auth, instance_id=instance_id, step_key=payload.step_key, decision=payload.decision,
               comment=payload.comment, verifiers=payload.verifiers, override_reason=payload.override_reason)
    return _workflow(i)


@api.get("/notices", response=list[NoticeOut], tags=["流程"], summary="辖区内的公示")
def notices_list(request, active_on: Optional[dt.date] = None):
    from django.db.models import Count, Q

    from fupin.workflows import services as wf

    qs = wf.notices_for(request.auth).annotate(
        n_objections=Count("objections"), n_unanswered=Count("objections", filter=Q(objections__answered_at__isnull=True)))
    if active_on:
        qs = qs.filter(start__lte=active_on, end__gte=active_on)
    return [{"id": n.pk, "title": n.title, "start": n.start, "end": n.end, "token": n.token,
             "objections": n.n_objections, "unanswered": n.n_unanswered}
            for n in qs.order_by("-id")[:200]]


@api.post("/notices/{notice_id}/objections", response={201: dict}, tags=["流程"], summary="登记异议")
def objection_create(request, notice_id: int, payload: ObjectionIn):
    from fupin.workflows import services as wf

    n = wf.access_notice(request.auth, notice_id)
    o = wf.objection_lodge(notice=n, by_name=payload.by_name, content=payload.content, via="cadre", actor=request.auth)
    return Status(201, {"id": o.pk})


# ---- assistance: visits and measures (for mini-programs and other clients) ---------------------

class VisitIn(Schema):
    household_id: int
    date: dt.date
    minutes: int
    done: str
    found: str = ""
    satisfaction: str = ""
    client_token: str        # the client's own id for this visit: a retry returns the same visit


class MeasureIn(Schema):
    household_id: int
    kind: str
    money: str               # yuan, e.g. "3000.00"
    date: dt.date
    description: str


@api.post("/visits", response={201: dict}, tags=["结对帮扶"], summary="记录走访（同一 client_token 只记一次）")
def visit_create(request, payload: VisitIn):
    from fupin.pairing import services as assist

    h = access.access_household(request.auth, payload.household_id)
    v = assist.visit_record(actor=request.auth, household=h, date=payload.date, minutes=payload.minutes,
                            done=payload.done, found=payload.found, satisfaction=payload.satisfaction,
                            client_token=payload.client_token)
    return Status(201, {"id": v.pk, "date": v.date.isoformat()})


@api.post("/measures", response={201: dict}, tags=["结对帮扶"], summary="记录帮扶措施")
def measure_create(request, payload: MeasureIn):
    from fupin.pairing import services as assist
    from fupin.policy.money import MoneyError, parse_yuan

    h = access.access_household(request.auth, payload.household_id)
    try:   # the one money parser: no NaN, Infinity, exponent ("1e999999"), third decimal or sign
        money = parse_yuan(payload.money, "money")
    except MoneyError as exc:
        raise InvalidInput({"money": exc.problem}) from None
    m = assist.measure_record(actor=request.auth, household=h, kind=payload.kind, money=money, date=payload.date,
                              description=payload.description)
    return Status(201, {"id": m.pk})


# ---- social assistance (fupin/welfare): applications, re-checks, monthly runs -------------------------
# The same services, capabilities and scope as the screens and `fupin welfare`; amounts are yuan text.

class BenefitOut(Schema):
    id: int
    person_id: int
    person: str
    programme: str
    programme_label: str
    category_label: str
    monthly_amount: str
    start: dt.date
    stop: Optional[dt.date]
    stop_reason: str
    next_recheck: Optional[dt.date]


class ApplicationIn(Schema):
    household_id: int
    person_id: int
    programme: str
    category: str
    care_level: str = "none"
    consent_assets: bool
    on_behalf: bool = False
    comment: str = ""


class AssetsIn(Schema):
    """The family's assets found at the home visit (入户核查); amounts are yuan text ("12000.00")."""
    deposits: Union[str, int] = "0"
    securities: Union[str, int] = "0"
    insurance: Union[str, int] = "0"          # cash value of commercial insurance
    vehicles: int = 0
    vehicles_exempt: int = 0                  # of which used for work or by a disabled member
    commercial_housing: bool = False
    houses: int = 0
    businesses: int = 0                       # business registrations (companies, individual businesses)


class ApplicationActIn(Schema):
    step: str                       # the current step's key (a stale client is refused)
    approve: bool
    comment: str = ""
    verifiers: list[str] = []       # home verification: the two people who went
    evidence: list[str] = []
    assets: Optional[AssetsIn] = None   # required when approving the home-verification step of 低保/特困


class ApplicationOut(Schema):
    id: int
    household_id: int
    person_id: int
    programme: str
    state: str
    state_label: str
    step: Optional[str]             # the current step's key, none when finished
    step_label: Optional[str]
    step_due: Optional[dt.date]


class RecheckIn(Schema):
    stop: bool = False
    reason: str = ""


class RecheckOut(Schema):
    id: int
    enrolment_id: int
    result: str
    result_label: str
    old_amount: str
    new_amount: str
    effective: dt.date


class RunIn(Schema):
    programme: str
    county: str                     # county region code
    month: str                      # e.g. "2026-12"


class StoppedOut(Schema):
    name: str
    reason: str


class RunOut(Schema):
    id: int
    programme: str
    programme_label: str
    county: str
    month: str
    status: str
    status_label: str
    recipients: int
    total: str
    computed_by: str
    approved_by: Optional[str]
    stopped: list[StoppedOut]


class RunLineOut(Schema):
    person_id: int
    name: str
    id_number_masked: str
    amount: str
    previous: Optional[str]
    flag: str
    flag_label: str


class RunLinePage(Schema):
    count: int
    lines: list[RunLineOut]


def _benefit(e) -> dict:
    from fupin.policy.money import yuan

    return {"id": e.pk, "person_id": e.person_id, "person": e.person.name, "programme": e.programme,
            "programme_label": e.get_programme_display(), "category_label": e.category_label,
            "monthly_amount": yuan(e.monthly_amount), "start": e.start, "stop": e.stop, "stop_reason": e.stop_reason,
            "next_recheck": e.next_recheck}


def _application(a) -> dict:
    step = a.current
    return {"id": a.pk, "household_id": a.household_id, "person_id": a.person_id, "programme": a.programme,
            "state": a.state, "state_label": a.get_state_display(), "step": step["key"] if step else None,
            "step_label": step["label"] if step else None, "step_due": a.step_due if step else None}


def _run(r) -> dict:
    from fupin.policy.money import yuan

    return {"id": r.pk, "programme": r.programme, "programme_label": r.get_programme_display(),
            "county": r.county_id, "month": f"{r.month:%Y-%m}", "status": r.status,
            "status_label": r.get_status_display(), "recipients": r.lines_count, "total": yuan(r.total),
            "computed_by": r.computed_by.username, "approved_by": r.approved_by.username if r.approved_by else None,
            "stopped": [{"name": s["name"], "reason": s["reason"]} for s in r.stopped]}


@api.get("/households/{household_id}/benefits", response=list[BenefitOut], tags=["社会救助"],
         summary="户内成员各救助项目的待遇（本月在享及本年已停、一次性的）")
def household_benefits(request, household_id: int):
    from fupin.welfare import selectors as welfare

    h = access.access_household(request.auth, household_id)
    return [_benefit(e) for e in welfare.household_benefits(request.auth, h)]


@api.post("/welfare/applications", response={201: ApplicationOut}, tags=["社会救助"],
          summary="受理救助申请（本人申请或干部代为申请；须授权核查家庭经济状况）")
def welfare_application_start(request, payload: ApplicationIn):
    from fupin.welfare import services as welfare

    app = welfare.application_start(actor=request.auth, household_id=payload.household_id,
                                    person_id=payload.person_id, programme=payload.programme,
                                    category=payload.category, care_level=payload.care_level,
                                    consent_assets=payload.consent_assets, on_behalf=payload.on_behalf,
                                    comment=payload.comment)
    return Status(201, _application(app))


@api.get("/welfare/applications/{application_id}", response=ApplicationOut, tags=["社会救助"])
def welfare_application_get(request, application_id: int):
    from fupin.welfare import services as welfare

    return _application(welfare.access_application(request.auth, application_id))


@api.post("/welfare/applications/{application_id}/act", response=ApplicationOut, tags=["社会救助"],
          summary="办理申请的当前步骤（通过或不予通过，不通过须写明原因）")
def welfare_application_act(request, application_id: int, payload: ApplicationActIn):
    from fupin.welfare import services as welfare

    app = welfare.application_act(actor=request.auth, application_id=application_id, step_key=payload.step,
                                  approve=payload.approve, comment=payload.comment, verifiers=payload.verifiers,
                                  evidence=payload.evidence,
                                  assets=payload.assets.dict() if payload.assets is not None else None)
    return _application(app)


@api.post("/welfare/enrolments/{enrolment_id}/recheck", response={201: RecheckOut}, tags=["社会救助"],
          summary="记录复核结果（自下月起维持、提高、降低或停发；停发须写明原因）")
def welfare_recheck(request, enrolment_id: int, payload: RecheckIn):
    from fupin.policy.money import yuan
    from fupin.welfare import services as welfare

    r = welfare.recheck_record(actor=request.auth, enrolment_id=enrolment_id, stop=payload.stop,
                               reason=payload.reason)
    return Status(201, {"id": r.pk, "enrolment_id": r.enrolment_id, "result": r.result,
                        "result_label": r.get_result_display(), "old_amount": yuan(r.old_amount),
                        "new_amount": yuan(r.new_amount), "effective": r.effective})


@api.get("/welfare/runs", response=list[RunOut], tags=["社会救助"], summary="辖区内的按月发放计算（最近 200 次）")
def welfare_runs(request, month: str = ""):
    from fupin.welfare import selectors as welfare
    from fupin.welfare.services import parse_month

    runs = welfare.runs_for(request.auth).select_related("county", "computed_by", "approved_by")
    if month:
        runs = runs.filter(month=parse_month(month))
    return [_run(r) for r in runs[:200]]


@api.post("/welfare/runs", response={201: RunOut}, tags=["社会救助"],
          summary="计算一个县一个月一个救助项目的发放（已发放的人不再计入）")
def welfare_run_compute(request, payload: RunIn):
    from fupin.welfare import services as welfare

    run = welfare.run_compute(actor=request.auth, programme=payload.programme, county_code=payload.county,
                              month=welfare.parse_month(payload.month))
    return Status(201, _run(run))


@api.get("/welfare/runs/{run_id}", response=RunOut, tags=["社会救助"])
def welfare_run_get(request, run_id: int):
    from fupin.welfare import services as welfare

    return _run(welfare.access_run(request.auth, run_id))


@api.get("/welfare/runs/{run_id}/lines", response=RunLinePage, tags=["社会救助"],
         summary="发放明细（例外在前：新增、金额变化、金额跳变；身份证号已遮蔽；每页 500 条）")
def welfare_run_lines(request, run_id: int, page: int = 1):
    from fupin.policy.money import yuan
    from fupin.welfare import selectors as welfare

    if page < 1 or page > 100_000:
        raise InvalidInput({"page": "页码应在 1 到 100000 之间"})
    _, lines = welfare.review(request.auth, run_id)
    chunk = lines[(page - 1) * 500:page * 500]
    return {"count": lines.count(),
            "lines": [{"person_id": x.person_id, "name": x.person.name,
                       "id_number_masked": idcard.mask(x.person.id_number), "amount": yuan(x.amount),
                       "previous": yuan(x.previous) if x.previous is not None else None, "flag": x.flag,
                       "flag_label": x.get_flag_display()} for x in chunk]}


@api.post("/welfare/runs/{run_id}/approve", response=RunOut, tags=["社会救助"], summary="审批计算（不能由计算人审批）")
def welfare_run_approve(request, run_id: int):
    from fupin.welfare import services as welfare

    return _run(welfare.run_approve(actor=request.auth, run_id=run_id))


@api.post("/welfare/runs/{run_id}/post", response=RunOut, tags=["社会救助"],
          summary="发放入账（每人每月一笔，账簿拒绝同月重复支付）")
def welfare_run_post(request, run_id: int):
    from fupin.welfare import services as welfare

    return _run(welfare.run_post(actor=request.auth, run_id=run_id))
