"""Every write of the monitoring room, each with its audit row (issue 14).

batch_import  a department file → a dated batch (all or nothing, idempotent by file hash)
batch_link    the batch's rows → links to registry persons (exact ID, then the model) → warnings
link_decide   an officer's clerical-review decision, remembered for later batches
warning_start the village starts the monitoring workflow from a warning (channel "department")
warning_dismiss the village dismisses a warning with a reason

Access is checked before any transaction opens, so a refusal's audit row survives and a refused
action changes nothing.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from fupin.core import access, audit, idcard, workdays
from fupin.core.errors import FupinError, InvalidInput
from fupin.core.models import AuditAction, Region, User
from fupin.core.roles import Cap
from fupin.exchange import excel
from fupin.exchange.excel import FileRejected, Problem
from fupin.policy.errors import PolicyError
from fupin.policy.packs import shipped_packs
from fupin.registry.models import Person

from . import linkage, lists, selectors
from .models import Band, Batch, Decision, Link, ListRow, ReviewMemory, Warning, WarningState


def today() -> dt.date:
    return timezone.localdate()


def _p(code: str, name: str, when: dt.date):
    try:
        return shipped_packs().for_region(code).lookup(name, when).value
    except PolicyError as exc:
        raise FupinError(exc.message) from None


# ---- import ---------------------------------------------------------------------------------------

@dataclass
class ImportReport:
    batch: Batch | None = None
    created: bool = False
    problems: list[Problem] = field(default_factory=list)
    error_workbook: bytes | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def _jsonable(value):
    return value.isoformat() if isinstance(value, dt.date) else value


def batch_form_check(*, kind: str, source: str, as_of: dt.date | None) -> None:
    """The form's own fields, checked before any file is read (also by the upload page, so a
    slip in them is answered at once, not by a background job)."""
    errors = {}
    if lists.kinds().get(kind) is None:
        errors["名单类型"] = f"未知的名单类型“{kind}”；请从列表中选择"
    if not source.strip():
        errors["来源单位"] = "请填写名单的来源单位（如 县民政局）"
    if as_of is None:
        errors["数据日期"] = "请填写名单的数据日期（名单截至哪一天）"
    elif as_of > today():
        errors["数据日期"] = f"数据日期 {as_of} 晚于今天，请核对"
    if errors:
        raise InvalidInput(errors)


def batch_import(*, actor: User, kind: str, source: str, as_of: dt.date | None, data: bytes,
                 filename: str = "") -> ImportReport:
    access.require(actor, Cap.MONITOR_IMPORT, what="导入部门比对名单")
    batch_form_check(kind=kind, source=source, as_of=as_of)
    list_kind = lists.kinds()[kind]
    report = ImportReport()
    file_hash = hashlib.sha256(data).hexdigest()
    existing = Batch.objects.filter(kind=kind, region=actor.region, file_hash=file_hash).first()
    if existing is not None:  # the same file again: nothing new
        report.batch = existing
        return report
    try:
        table = excel.read_table(data, list(list_kind.columns), filename=filename)
    except FileRejected as exc:
        report.problems.append(Problem(None, None, None, None, exc.message))
        return report
    problems = list(table.problems)
    pos = table.positions
    lo, hi = access.scope_range(actor)
    codes = {v.get("village_code") for _, v in table.rows if v.get("village_code")}
    villages = set(Region.objects.filter(code__in=codes, level=5).values_list("code", flat=True))
    for number, values in table.rows:
        if "name" in values and not values.get("id_number") and not values.get("birth_date") \
                and "id_number" in values and "birth_date" in values:
            problems.append(Problem(number, excel._letter(pos.get("id_number")), "公民身份号码", None,
                                    "公民身份号码和出生日期至少填一项，否则无法比对；请补上其中一项"))
        code = values.get("village_code")
        if code and (code not in villages or not lo <= code <= hi):
            problems.append(Problem(number, excel._letter(pos.get("village_code")), "村代码", code,
                                    f"村代码 {code} 不存在、不是村级区划或不在您的管辖范围内；请核对或留空"))
    if problems:
        problems.sort(key=lambda p: (p.row or 0, p.column or ""))
        report.problems = problems
        report.error_workbook = excel.error_workbook(table, problems)
        return report
    with transaction.atomic():
        batch = Batch.objects.create(kind=kind, source=source.strip(), as_of=as_of, file_name=filename[:200],
                                     file_hash=file_hash, region=actor.region, rows=len(table.rows),
                                     imported_by=actor)
        ListRow.objects.bulk_create([
            ListRow(batch=batch, row=number, name=values.get("name", ""), id_number=values.get("id_number", ""),
                    sex=values.get("sex", ""), birth_date=values.get("birth_date"),
                    address=values.get("address", ""), village_code=values.get("village_code", ""),
                    data={k: _jsonable(values.get(k)) for k in list_kind.extra_keys})
            for number, values in table.rows])
        audit.record(actor, AuditAction.IMPORT, object_type="monitoring_batch", object_id=batch.pk,
                     summary=f"导入{list_kind.label}（{batch.source}，{as_of}）{batch.rows} 行")
    report.batch, report.created = batch, True
    return report


# ---- linkage ----------------------------------------------------------------------------------------

def signature(row: ListRow) -> str:
    """What identifies a list row across batches: normalised name, ID, birth date, sex."""
    idn, _ = linkage.norm_id(row.id_number)
    return "|".join([linkage.norm_name(row.name), idn, linkage.norm_birth(row.birth_date), row.sex])[:120]


def _person_record(p: Person) -> linkage.Record:
    h = p.household
    address = h.address or f"{h.village.parent.name if h.village.parent else ''}{h.village.name}"
    return linkage.Record(key=str(p.pk), name=p.name, id_number=p.id_number, sex=p.sex, birth=p.birth_date,
                          address=address)


def batch_link(*, actor: User, batch_id: int) -> Batch:
    """Link the batch's rows to the registry persons in the importer's scope and turn the
    accepted links into warnings. Linking a batch a second time changes nothing."""
    access.require(actor, Cap.MONITOR_IMPORT, what="比对部门名单")
    batch = selectors.access_batch(actor, batch_id)
    if batch.linked_at is not None:
        return batch
    rows = list(batch.list_rows.all())
    persons = list(access.persons_for(actor).select_related("household__village__parent"))
    pairs = linkage.link(
        [linkage.Record(key=str(r.pk), name=r.name, id_number=r.id_number, sex=r.sex, birth=r.birth_date or "",
                        address=r.address) for r in rows],
        [_person_record(p) for p in persons],
        auto=settings.MONITORING_LINK_AUTO, review=settings.MONITORING_LINK_REVIEW)
    by_pk = {r.pk: r for r in rows}
    sigs = {r.pk: signature(r) for r in rows}
    memory = {(m.signature, m.person_id): m.decision
              for m in ReviewMemory.objects.filter(signature__in=set(sigs.values()))}
    with transaction.atomic():
        batch = Batch.objects.select_for_update().get(pk=batch.pk)
        if batch.linked_at is not None:
            return batch
        links = []
        for pair in pairs:
            row_pk, person_pk = int(pair.left), int(pair.right)
            remembered = memory.get((sigs[row_pk], person_pk), "") if pair.band == Band.REVIEW else ""
            links.append(Link(row_id=row_pk, person_id=person_pk, probability=pair.probability, band=pair.band,
                              method=pair.method, decision=remembered, remembered=bool(remembered)))
        Link.objects.bulk_create(links)
        batch.linked_at = timezone.now()
        batch.save(update_fields=["linked_at"])
        made = _findings(batch, [by_pk[pk] for pk in sorted(by_pk)])
        audit.record(actor, AuditAction.CREATE, object_type="monitoring_batch", object_id=batch.pk,
                     summary=f"比对{batch.file_name}：{sum(x.band == Band.AUTO for x in links)} 对自动确认，"
                             f"{sum(x.band == Band.REVIEW for x in links)} 对待复核，生成预警 {made} 条")
    return batch


def link_decide(*, actor: User, link_id: int, decision: str) -> Link:
    access.require(actor, Cap.MONITOR, what="人工复核比对结果")
    if decision not in (Decision.SAME, Decision.DIFFERENT):
        raise InvalidInput({"决定": "应为“同一人”或“不是同一人”"})
    link = selectors.access_link(actor, link_id)
    with transaction.atomic():
        link = Link.objects.select_for_update().select_related("row__batch").get(pk=link.pk)
        if link.band != Band.REVIEW or link.decision:
            raise FupinError("该对记录已经决定过，不能重复复核")
        link.decision, link.decided_by, link.decided_at = decision, actor, timezone.now()
        link.save(update_fields=["decision", "decided_by", "decided_at"])
        ReviewMemory.objects.update_or_create(signature=signature(link.row), person_id=link.person_id,
                                              defaults={"decision": decision, "decided_by": actor})
        made = _findings(link.row.batch, [link.row]) if decision == Decision.SAME else 0
        audit.record(actor, AuditAction.UPDATE, object_type="monitoring_link", object_id=link.pk,
                     summary=f"人工复核：第{link.row.row}行与人员 {link.person_id} "
                             f"{Decision(decision).label}" + (f"，生成预警 {made} 条" if made else ""))
    return link


# ---- finding rules ----------------------------------------------------------------------------------

def _accepted_person(row: ListRow) -> Person | None:
    best = None
    for link in row.links.all():
        if link.accepted and (best is None or link.probability > best.probability):
            best = link
    return best.person if best else None


def _pending(row: ListRow) -> bool:
    return any(x.band == Band.REVIEW and not x.decision for x in row.links.all())


def _paid_after(person: Person, day: dt.date) -> int:
    from fupin.funds.models import Entry

    return Entry.objects.filter(account__person=person, transaction__kind="payment", transaction__date__gt=day,
                                amount__gt=0).aggregate(s=Sum("amount"))["s"] or 0


def _findings(batch: Batch, rows: list[ListRow]) -> int:
    """Run the pack's rules that read this list kind over the rows; returns warnings made.
    A (rule, row) pair gives at most one warning, so running again makes nothing new."""
    kind = lists.kinds()[batch.kind]
    when = today()
    code = batch.region_id
    rules = {k: r for k, r in _p(code, "monitoring.rules", when).items() if batch.kind in r["lists"]}
    if not rules:
        return 0
    in_statuses = set(_p(code, "monitoring.in_statuses", when))
    out_statuses = set(_p(code, "monitoring.should_be_in_statuses", when))
    due = workdays.add_working_days(when, _p(code, "monitoring.warning_due_working_days", when))
    rows = list(ListRow.objects.filter(pk__in=[r.pk for r in rows])
                .prefetch_related("links__person__household__village"))
    villages = set(Region.objects.filter(code__in={r.village_code for r in rows if r.village_code}, level=5)
                   .values_list("code", flat=True))
    made = 0
    for row in rows:
        if _pending(row):
            continue  # waits for the clerical review
        person = _accepted_person(row)
        household = person.household if person else None
        where = f"{kind.label}（{batch.source}，数据日期 {batch.as_of}）第{row.row}行"
        who = f"{row.name} {idcard.mask(row.id_number)}".strip()
        for key, rule in rules.items():
            evidence = _rule(key, kind, row, person, household, in_statuses, out_statuses, code, when)
            if evidence is None:
                continue
            village = household.village_id if household else row.village_code
            if not village or (household is None and village not in villages):
                continue  # not in the registry and no village given: nobody to send it to
            _, created = Warning.objects.get_or_create(
                rule=key, row=row, defaults=dict(
                    group=rule["group"], label=rule["label"], batch=batch, person=person, household=household,
                    village_id=village, evidence=[f"{where}：{who}"] + evidence, created_on=when, due=due))
            made += created
    return made


def _rule(key, kind, row, person, household, in_statuses, out_statuses, code, when) -> list[str] | None:
    """The evidence for one rule on one row, or None when the rule does not fire."""
    d = row.data
    status = household.status if household else None
    if key == "exclusion":
        if household is None or status not in in_statuses or kind.exclusion not in _p(code, "workflow.exclusions", when):
            return None
        details = "，".join(f"{c.header}：{d[c.key]}" for c in kind.columns if c.key in kind.extra_keys and d.get(c.key))
        return [f"户籍中：{household.number} {household.get_status_display()}，{person.name}（{person.get_relation_display()}）",
                f"属于不得纳入人员（{kind.label}）" + (f"：{details}" if details else "")]
    if key == "deceased":
        if person is None or not person.alive:
            return None
        death = dt.date.fromisoformat(d["death_date"])
        paid = _paid_after(person, death)
        out = [f"部门记录 {death} 死亡，户籍中仍为在世（户 {household.number}，{household.get_status_display()}）"]
        if paid:
            out.append(f"死亡后仍支付 {paid // 100}.{paid % 100:02d} 元")
        return out
    if key in ("new_assistance", "dropout", "large_medical"):
        if kind.key == "disability" and (d.get("grade") or 99) > _p(code, "monitoring.severe_disability_max_grade", when):
            return None
        if key == "large_medical":
            line = _p(code, "workflow.large_medical_payment", when)
            if (d.get("self_paid") or 0) <= line:
                return None
            fact = f"{d.get('year')}年个人自付 {d['self_paid'] // 100}.{d['self_paid'] % 100:02d} 元，超过预警线 {line // 100} 元"
        else:
            fact = "，".join(f"{c.header}：{d[c.key]}" for c in kind.columns if c.key in kind.extra_keys and d.get(c.key))
            fact = f"{kind.label}中有此人" + (f"（{fact}）" if fact else "")
        if household is None:
            return [fact, "户籍中没有此人：请入户核实，符合条件的先登记再纳入监测"]
        if status not in out_statuses:
            return None
        return [fact, f"户 {household.number} 当前为“{household.get_status_display()}”，未纳入监测"]
    if key == "disease_inconsistent":
        if household is None or status not in in_statuses:
            return None
        causes = {household.main_cause, household.other_cause_1, household.other_cause_2}
        out = []
        if "illness" not in causes:
            out.append(f"卫健部门记录患{d.get('disease')}，户 {household.number} 致贫原因为"
                       f"“{household.get_main_cause_display()}”，未登记“因病”")
        if person.health == "healthy":
            out.append(f"卫健部门记录患{d.get('disease')}，{person.name} 的健康状况登记为“{person.get_health_display()}”")
        return out or None
    return None


# ---- the village's answer ---------------------------------------------------------------------------

def warning_start(*, actor: User, warning_id: int, monitored_type: str, comment: str = "") -> Warning:
    """Start the monitoring workflow with the warning as its entry channel ("department")."""
    from fupin.workflows import services as workflows

    access.require(actor, Cap.MONITOR, what="处理部门预警")
    warning = selectors.access_warning(actor, warning_id)
    if warning.state != WarningState.OPEN:
        raise FupinError(f"该预警{warning.get_state_display()}，不能再处理")
    if warning.household is None:
        raise FupinError("此人不在户籍中：请先登记该户，再从户页面发起监测对象识别")
    with transaction.atomic():
        warning = Warning.objects.select_for_update().get(pk=warning.pk)
        if warning.state != WarningState.OPEN:
            raise FupinError(f"该预警{warning.get_state_display()}，不能再处理")
        inst = workflows.start(actor=actor, household=warning.household, kind="monitoring", channel="department",
                               monitored_type=monitored_type,
                               comment=(f"部门预警：{warning.label}。{comment}").strip()[:500],
                               evidence=list(warning.evidence))
        warning.state, warning.workflow = WarningState.STARTED, inst
        warning.decided_by, warning.decided_at = actor, timezone.now()
        warning.save(update_fields=["state", "workflow", "decided_by", "decided_at"])
        audit.record(actor, AuditAction.UPDATE, object_type="monitoring_warning", object_id=warning.pk,
                     household_id=warning.household_id, summary=f"部门预警“{warning.label}”：发起监测对象识别")
    return warning


def warning_dismiss(*, actor: User, warning_id: int, reason: str) -> Warning:
    access.require(actor, Cap.MONITOR, what="处理部门预警")
    warning = selectors.access_warning(actor, warning_id)
    reason = (reason or "").strip()
    if len(reason) < 4:
        raise InvalidInput({"排除理由": "请写明入户核实的情况和排除理由（至少4个字）"})
    with transaction.atomic():
        updated = Warning.objects.filter(pk=warning.pk, state=WarningState.OPEN).update(
            state=WarningState.DISMISSED, reason=reason[:500], decided_by=actor, decided_at=timezone.now())
        if not updated:
            raise FupinError("该预警已处理过，不能再排除")
        audit.record(actor, AuditAction.UPDATE, object_type="monitoring_warning", object_id=warning.pk,
                     household_id=warning.household_id, summary=f"部门预警“{warning.label}”：排除（{reason[:100]}）")
    warning.refresh_from_db()
    return warning


# ---- self-declaration (SPEC §3.5) ---------------------------------------------------------------------

def _accept_days(code: str, when: dt.date) -> int:
    """The township's time to accept an application made through the app: the first step's
    `app_due_working_days` of the monitoring workflow in the pack."""
    steps = _p(code, "workflow.monitoring", when)["steps"]
    return steps[0].get("app_due_working_days") or steps[0]["due_working_days"]


def declaration_lodge(*, name: str, id_number: str, phone: str, village_code: str, difficulty: str,
                      actor: User | None = None, ip: str | None = None):
    """A resident (anonymous, throttled per address) or a cadre declares a difficulty."""
    from fupin.registry import validators

    from .models import Declaration

    if actor is not None:
        access.require(actor, Cap.MONITOR, what="代为登记困难申报")
    errors = {}
    name, difficulty, phone = name.strip(), difficulty.strip(), "".join((phone or "").split())
    if not name:
        errors["姓名"] = "请填写申报人姓名"
    check = idcard.check(id_number)
    if not check.valid:
        errors["公民身份号码"] = f"{check.error}；请核对后重新填写"
    try:
        validators.phone(phone)
        if not phone:
            raise ValueError
    except Exception:  # noqa: BLE001 - the registry's validator raises Django's ValidationError
        errors["联系电话"] = "请填写11位手机号或带区号的固定电话，便于村里联系核实"
    village = Region.objects.filter(code=village_code, level=5).first()
    if village is None:
        errors["村"] = "请选择所在的村"
    elif actor is not None and not access.in_scope(actor, village.code):
        errors["村"] = f"{village.name}不在您的管辖范围内"
    if len(difficulty) < 4:
        errors["困难情况"] = "请简要写明遇到的困难（如 因病住院、因灾房屋受损、失业），至少4个字"
    if errors:
        raise InvalidInput(errors)
    if actor is None and ip:
        from fupin.core.models import AuditEvent

        since = timezone.now() - dt.timedelta(hours=1)
        n = AuditEvent.objects.filter(object_type="declaration", action=AuditAction.CREATE, actor__isnull=True,
                                      ip=ip, at__gte=since).count()
        if n >= settings.OBJECTION_IP_MAX_PER_HOUR:
            raise FupinError(f"同一网络地址每小时最多提交 {settings.OBJECTION_IP_MAX_PER_HOUR} 条申报，请稍后再试，"
                             "或直接到村委会、拨打 12317 申报")
    when = today()
    try:
        due = workdays.add_working_days(when, _accept_days(village.code, when))
    except FupinError as exc:   # a year's holiday arrangement not entered: the resident is told where else to go
        if actor is not None:
            raise
        raise FupinError("网上申报暂时不能受理：系统还不能推算受理期限。请直接到村委会申报，或拨打 12317") from exc
    with transaction.atomic():
        d = Declaration.objects.create(
            name=name[:40], id_number=check.id, phone=phone[:20], village=village, difficulty=difficulty[:500],
            via="cadre" if actor else "web", declared_on=when, accept_due=due)
        audit.record(actor, AuditAction.CREATE, object_type="declaration", object_id=d.pk,
                     summary=f"困难申报：{village.name} {name}", actor_name=None if actor else "公众",
                     ip=ip if actor is None else None)
    return d


def _declaration(actor: User, pk: int):
    from .models import Declaration

    lo, hi = access.scope_range(actor)
    d = Declaration.objects.select_related("village").filter(pk=pk, village_id__gte=lo, village_id__lte=hi).first()
    if d is None:
        from fupin.core.errors import NotFound

        raise NotFound(f"找不到申报 {pk}，或不在您的管辖范围内")
    return d


def declaration_accept(*, actor: User, declaration_id: int, monitored_type: str):
    """The township accepts: the declarant's household starts the monitoring workflow (channel "self")."""
    from fupin.workflows import services as workflows
    from fupin.workflows.services import TIER_ROLES

    from .models import Declaration, DeclarationState

    access.require(actor, Cap.MONITOR, what="受理困难申报")
    d = _declaration(actor, declaration_id)
    if actor.role not in TIER_ROLES["township"] | TIER_ROLES["county"]:
        raise FupinError("困难申报由乡镇受理；请联系乡镇工作人员")
    if d.state != DeclarationState.OPEN:
        raise FupinError(f"该申报{d.get_state_display()}，不能再受理")
    person = access.persons_for(actor).select_related("household").filter(id_number=d.id_number).first()
    if person is None:
        raise FupinError(f"户籍中没有 {d.name}（{idcard.mask(d.id_number)}）：请村里先入户登记该户，再受理")
    with transaction.atomic():
        d = Declaration.objects.select_for_update().get(pk=d.pk)
        if d.state != DeclarationState.OPEN:
            raise FupinError(f"该申报{d.get_state_display()}，不能再受理")
        inst = workflows.start(actor=actor, household=person.household, kind="monitoring", channel="self",
                               monitored_type=monitored_type, comment=f"困难申报：{d.difficulty}"[:500])
        d.state, d.workflow, d.decided_by, d.decided_at = DeclarationState.ACCEPTED, inst, actor, timezone.now()
        d.save(update_fields=["state", "workflow", "decided_by", "decided_at"])
        audit.record(actor, AuditAction.UPDATE, object_type="declaration", object_id=d.pk,
                     household_id=person.household_id, summary=f"受理困难申报：{d.name}，发起监测对象识别")
    return d


def declaration_decline(*, actor: User, declaration_id: int, reason: str):
    from .models import Declaration, DeclarationState

    access.require(actor, Cap.MONITOR, what="受理困难申报")
    d = _declaration(actor, declaration_id)
    reason = (reason or "").strip()
    if len(reason) < 4:
        raise InvalidInput({"不予受理理由": "请写明不予受理的理由（至少4个字），申报人会据此了解结果"})
    with transaction.atomic():
        if not Declaration.objects.filter(pk=d.pk, state=DeclarationState.OPEN).update(
                state=DeclarationState.DECLINED, reason=reason[:500], decided_by=actor, decided_at=timezone.now()):
            raise FupinError("该申报已处理过")
        audit.record(actor, AuditAction.UPDATE, object_type="declaration", object_id=d.pk,
                     summary=f"不予受理困难申报：{d.name}（{reason[:100]}）")
    d.refresh_from_db()
    return d
