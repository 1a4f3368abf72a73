"""Pairing, visits, measures, work teams and compliance. Every threshold is in the pack."""
from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Count, Sum
from django.utils import timezone

from fupin.core import access, audit
from fupin.core.errors import FupinError, InvalidInput, NotFound
from fupin.core.models import AuditAction, Region, User
from fupin.core.roles import Cap
from fupin.policy.errors import PolicyError
from fupin.policy.money import yuan
from fupin.policy.packs import shipped_packs
from fupin.registry.models import Household

from .models import (ExemptReason, Helper, HelperKind, Measure, MeasureKind, Pair, Survey, Team, TeamDay, TeamMember,
                     Unit, Visit, VisitPhoto)

def p(region_code: str, name: str, when: dt.date):
    try:
        return shipped_packs().for_region(region_code).lookup(name, when).value
    except PolicyError as exc:
        raise FupinError(exc.message) from None


def _add_years(d: dt.date, years: int) -> dt.date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


@transaction.atomic
def pair(*, actor: User, helper: Helper, household: Household, start: dt.date) -> Pair:
    access.require(actor, Cap.WRITE)
    household = access.access_household(actor, household.pk, for_update=True)
    Helper.objects.select_for_update().filter(pk=helper.pk).first()
    if not helper.active:
        raise FupinError(f"{helper.name} 已停用，不能结对")
    capacity = p(household.village_id, f"pairing.households_per_helper.{helper.kind}", start)
    current = helper.pairs.filter(ended_on__isnull=True).count()
    if current >= capacity:
        raise FupinError(f"{helper.name}（{helper.get_kind_display()}）按规定结对 {capacity} 户，已结对 {current} 户")
    term = p(household.village_id, "pairing.term_years", start)
    try:
        with transaction.atomic():
            pr = Pair.objects.create(helper=helper, household=household, start=start, locked_until=_add_years(start, term))
    except IntegrityError:
        other = Pair.objects.filter(household=household, ended_on__isnull=True).select_related("helper").first()
        raise FupinError(f"户 {household.number} 已由 {other.helper.name} 结对帮扶") from None
    audit.record(actor, AuditAction.CREATE, object_type="pair", object_id=pr.pk, household_id=household.pk,
                 summary=f"结对：{helper.unit.name} {helper.name} 帮扶户 {household.number}（至 {pr.locked_until}）")
    return pr


@transaction.atomic
def unpair(*, actor: User, pair_obj: Pair, on: dt.date, reason: str = "", replacement: Helper | None = None) -> Pair | None:
    """A pair is fixed for the term. A household not yet out of poverty keeps a helper: ending a
    pair early needs a recorded exception (the helper retired, moved or died) and a replacement."""
    access.require(actor, Cap.WRITE)
    pr = Pair.objects.select_for_update().select_related("household", "helper").get(pk=pair_obj.pk)
    if pr.ended_on:
        raise FupinError("该结对已经解除")
    household = access.access_household(actor, pr.household_id)
    out_of_poverty = household.status in ("exited", "eliminated", "dissolved")
    exceptions = p(household.village_id, "pairing.unpair_exceptions", on)
    if not out_of_poverty or on < pr.locked_until:
        if reason not in exceptions:
            raise FupinError(f"户 {household.number} 尚未脱贫或结对未满期（至 {pr.locked_until}），"
                             f"只有帮扶责任人{'、'.join({'retired': '退休', 'moved': '调动', 'died': '死亡'}.get(e, e) for e in exceptions)}时才能解除")
        if replacement is None:
            raise FupinError("解除结对须同时指定接替的帮扶责任人")
    pr.ended_on, pr.end_reason = on, reason or "term_ended"
    pr.save(update_fields=["ended_on", "end_reason"])
    new = None
    if replacement is not None:
        new = pair(actor=actor, helper=replacement, household=household, start=on)
        Pair.objects.filter(pk=pr.pk).update(replaced_by=new)
    audit.record(actor, AuditAction.UPDATE, object_type="pair", object_id=pr.pk, household_id=household.pk,
                 summary=f"解除结对：{pr.helper.name}（{reason or '期满'}）" + (f"，由 {replacement.name} 接替" if replacement else ""))
    return new


def helper_for(user: User) -> Helper:
    helper = getattr(user, "helper", None)
    if helper is None:
        raise NotFound("您的账户没有对应的帮扶责任人")
    return helper


def _compress(data: bytes) -> tuple[bytes, float | None, float | None]:
    """Shrink a photo for weak connections; keep its EXIF (including GPS) if present."""
    from PIL import Image

    try:
        img = Image.open(io.BytesIO(data))
        img.load()
    except Exception:
        raise FupinError("上传的照片无法识别，请上传 JPG 或 PNG 图片") from None
    exif = img.info.get("exif", b"")
    lat = lon = None
    try:
        gps = img.getexif().get_ifd(0x8825)
        if gps and 2 in gps and 4 in gps:
            def deg(v):
                return float(v[0]) + float(v[1]) / 60 + float(v[2]) / 3600
            lat = deg(gps[2]) * (-1 if gps.get(1) == "S" else 1)
            lon = deg(gps[4]) * (-1 if gps.get(3) == "W" else 1)
    except Exception:
        pass
    img = img.convert("RGB")
    img.thumbnail((1600, 1600))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=75, optimize=True, exif=exif)
    return out.getvalue(), lat, lon


@transaction.atomic
def visit_record(*, actor: User, household: Household, date: dt.date, minutes: int, done: str, found: str = "",
                 satisfaction: str = "", photos: list[bytes] | None = None, client_token: str) -> Visit:
    """Record a visit. The client's token makes a retried submission return the same visit."""
    helper = helper_for(actor)
    existing = Visit.objects.filter(client_token=client_token).first()
    if existing is not None:
        return existing
    if not Pair.objects.filter(helper=helper, household=household, ended_on__isnull=True).exists():
        raise FupinError(f"户 {household.number} 不是您结对帮扶的户")
    if date > timezone.localdate():
        raise InvalidInput({"走访日期": "不能晚于今天"})
    if not 1 <= minutes <= 24 * 60:
        raise InvalidInput({"时长": "应在1到1440分钟之间"})
    if not done.strip():
        raise InvalidInput({"做了什么": "必须填写"})
    try:
        with transaction.atomic():
            v = Visit.objects.create(helper=helper, household=household, date=date, minutes=minutes, done=done,
                                     found=found, satisfaction=satisfaction, client_token=client_token)
    except IntegrityError:  # the same token arrived twice at once
        return Visit.objects.get(client_token=client_token)
    for data in photos or []:
        small, lat, lon = _compress(data)
        name = default_storage.save(f"visits/{v.pk}.jpg", ContentFile(small))
        VisitPhoto.objects.create(visit=v, file=name, latitude=lat, longitude=lon, bytes=len(small))
    audit.record(actor, AuditAction.CREATE, object_type="visit", object_id=v.pk, household_id=household.pk,
                 summary=f"{helper.name} 走访（{date}，{minutes} 分钟）")
    return v


@transaction.atomic
def measure_record(*, actor: User, household: Household, kind: str, money: int, date: dt.date, description: str) -> Measure:
    helper = helper_for(actor)
    if not Pair.objects.filter(helper=helper, household=household, ended_on__isnull=True).exists():
        raise FupinError(f"户 {household.number} 不是您结对帮扶的户")
    kinds = p(household.village_id, "pairing.measure_types", date)
    if kind not in kinds:
        names = dict(MeasureKind.choices)
        raise InvalidInput({"措施类型": f"应为 {'、'.join(names.get(k, k) for k in kinds)} 之一"})
    if money < 0:
        raise InvalidInput({"资金": "不能为负"})
    m = Measure.objects.create(helper=helper, household=household, kind=kind, money=money, date=date, description=description)
    audit.record(actor, AuditAction.CREATE, object_type="measure", object_id=m.pk, household_id=household.pk,
                 summary=f"{helper.name} 帮扶措施：{description}（{money / 100:.2f} 元）")
    return m


def compliance(user: User, region_code: str, year: int) -> dict:
    """Each helper, household and team member against the pack's thresholds for the year."""
    region = access.access_region(user, region_code)
    lo, hi = region.code_range()
    when = dt.date(year, 12, 31)
    need_days = p(region.code, "pairing.helper.min_days", when)
    need_money = p(region.code, "pairing.helper.min_money_per_household", when)
    need_measures = p(region.code, "pairing.household.min_measures", when)
    need_surveys = p(region.code, "pairing.team.surveys_per_month", when)
    need_team_days = p(region.code, "pairing.team.min_days", when)
    in_region = dict(household__village_id__gte=lo, household__village_id__lte=hi)
    pairs = Pair.objects.filter(start__lte=when, **in_region).exclude(ended_on__lt=dt.date(year, 1, 1)).select_related("helper__unit", "household")
    visit_days = defaultdict(set)
    for hid, d in Visit.objects.filter(date__year=year, **in_region).values_list("helper_id", "date"):
        visit_days[hid].add(d)
    money = defaultdict(int)
    for hid, hh, m in Measure.objects.filter(date__year=year, **in_region).values_list("helper_id", "household_id").annotate(m=Sum("money")):
        money[(hid, hh)] = m
    measures = dict(Measure.objects.filter(date__year=year, **in_region).values_list("household_id").annotate(n=Count("id")))
    helpers = {}
    for pr in pairs:
        row = helpers.setdefault(pr.helper_id, {"helper": pr.helper, "households": [], "days": len(visit_days[pr.helper_id])})
        row["households"].append({"household": pr.household, "money": money[(pr.helper_id, pr.household_id)],
                                  "measures": measures.get(pr.household_id, 0)})
    helper_rows = []
    for row in helpers.values():
        short = []
        if row["days"] < need_days:
            short.append(f"在村入户 {row['days']} 天，少于 {need_days} 天")
        for h in row["households"]:
            if h["money"] < need_money:
                short.append(f"户 {h['household'].number} 投入 {yuan(h['money'])} 元，少于 {yuan(need_money)} 元")
        helper_rows.append({**row, "shortfalls": short, "ok": not short})
    household_rows = [{"household": pr.household, "measures": measures.get(pr.household_id, 0),
                       "ok": measures.get(pr.household_id, 0) >= need_measures} for pr in pairs]
    teams = Team.objects.filter(village_id__gte=lo, village_id__lte=hi)
    team_rows = []
    for t in teams:
        per_month = dict(Survey.objects.filter(team=t, date__year=year).values_list("date__month").annotate(n=Count("id")))
        months = [m for m in range(1, 13) if dt.date(year, m, 1) <= min(timezone.localdate(), when)]
        short_months = [m for m in months if per_month.get(m, 0) < need_surveys]
        members = [{"member": m, "days": m.days.filter(date__year=year).count()} for m in t.members.all()]
        for m in members:
            m["ok"] = m["days"] >= need_team_days
        team_rows.append({"team": t, "short_months": short_months, "members": members})
    return {"region": region, "year": year, "helpers": helper_rows, "households": household_rows, "teams": team_rows,
            "thresholds": {"days": need_days, "money": need_money, "measures": need_measures,
                           "surveys": need_surveys, "team_days": need_team_days}}


def import_pairs(user: User, data: bytes, filename: str = "", *, start: dt.date) -> tuple[int, list, bytes | None]:
    """Bulk pairing from the unit's Excel list (单位、帮扶责任人、户编号). All or nothing."""
    from fupin.exchange import excel
    from fupin.exchange.excel import Column, FileRejected, Problem

    access.require(user, Cap.IMPORT)
    cols = [Column("unit", "单位", excel.text(80), required=True, aliases=("帮扶单位",)),
            Column("helper", "帮扶责任人", excel.text(40), required=True),
            Column("number", "户编号", excel.text(24), required=True)]
    try:
        table = excel.read_table(data, cols, filename=filename)
    except FileRejected as exc:
        return 0, [Problem(None, None, None, None, exc.message)], None
    problems = list(table.problems)
    from .selectors import pairable_helpers   # never another county's helpers

    helpers = {(h.unit.name, h.name): h for h in pairable_helpers(user)}
    households = {h.number: h for h in access.households_for(user).filter(number__in={v.get("number") for _, v in table.rows})}
    wanted = []
    for row, v in table.rows:
        h = helpers.get((v.get("unit"), v.get("helper")))
        if v.get("helper") and h is None:
            problems.append(Problem(row, "B", "帮扶责任人", v.get("helper"), f"单位“{v.get('unit')}”没有此帮扶责任人"))
        hh = households.get(v.get("number"))
        if v.get("number") and hh is None:
            problems.append(Problem(row, "C", "户编号", v.get("number"), "户编号不存在或不在您的管辖范围内"))
        if h and hh:
            wanted.append((row, h, hh))
    if not problems:
        try:
            with transaction.atomic():
                for row, h, hh in wanted:
                    if Pair.objects.filter(helper=h, household=hh, ended_on__isnull=True).exists():
                        continue  # re-importing the same list changes nothing
                    try:
                        pair(actor=user, helper=h, household=hh, start=start)
                    except FupinError as exc:
                        problems.append(Problem(row, None, None, None, exc.message))
                        raise
        except FupinError:
            pass
    if problems:
        return 0, problems, excel.error_workbook(table, problems)
    return len(wanted), [], None


@transaction.atomic
def team_day(*, actor: User, date: dt.date) -> TeamDay:
    member = getattr(actor, "team_member", None)
    if member is None:
        raise NotFound("您的账户不是驻村工作队员")
    if date > timezone.localdate():
        raise InvalidInput({"日期": "不能晚于今天"})
    day, _ = TeamDay.objects.get_or_create(member=member, date=date)
    return day


@transaction.atomic
def team_survey(*, actor: User, household: Household, date: dt.date, note: str = "") -> Survey:
    member = getattr(actor, "team_member", None)
    if member is None:
        raise NotFound("您的账户不是驻村工作队员")
    if household.village_id != member.team.village_id:
        raise FupinError(f"户 {household.number} 不在工作队所驻的村")
    s = Survey.objects.create(team=member.team, household=household, date=date, note=note)
    audit.record(actor, AuditAction.CREATE, object_type="survey", object_id=s.pk, household_id=household.pk,
                 summary=f"驻村工作队入户调查（{date}）")
    return s


# ---- administration: units, helpers, work teams (the county office, on screens and by import) ------

def _require_region(actor: User, code: str, level: int | None = None, what: str = "区划") -> Region:
    region = access.access_region(actor, code)
    if level is not None and region.level != level:
        raise InvalidInput({what: f"“{region.name}”不是{ {3: '县级', 5: '村级'}.get(level, '')}区划"})
    return region


def _check_helper(kind: str, exempt_reason: str) -> None:
    if kind not in HelperKind.values:
        raise InvalidInput({"类别": f"应为 {'、'.join(HelperKind.labels)} 之一"})
    if kind == HelperKind.EXEMPT and exempt_reason not in ExemptReason.values:
        raise InvalidInput({"免于结对原因": f"免于结对须注明原因：{'、'.join(ExemptReason.labels)}"})
    if kind != HelperKind.EXEMPT and exempt_reason:
        raise InvalidInput({"免于结对原因": "只有“免于结对”的人员填写此项"})


def unit_save(*, actor: User, name: str, region_code: str, unit: Unit | None = None) -> Unit:
    access.require(actor, Cap.PAIRING_MANAGE)
    name = name.strip()
    if not name:
        raise InvalidInput({"帮扶单位": "必须填写"})
    region = _require_region(actor, region_code)
    if Unit.objects.filter(name=name).exclude(pk=getattr(unit, "pk", None)).exists():
        raise InvalidInput({"帮扶单位": f"“{name}”已存在"})
    with transaction.atomic():
        before = {} if unit is None else {"name": unit.name, "region": unit.region_id}
        if unit is None:
            unit = Unit.objects.create(name=name[:80], region=region)
        else:
            Unit.objects.filter(pk=unit.pk).update(name=name[:80], region=region)
            unit.refresh_from_db()
        audit.record(actor, AuditAction.UPDATE if before else AuditAction.CREATE, object_type="pairing_unit",
                     object_id=unit.pk, summary=f"{'修改' if before else '新增'}帮扶单位：{unit.name}",
                     detail={"fields": audit.changes(before, {"name": unit.name, "region": unit.region_id})})
    return unit


def _current_pairs(helper: Helper) -> int:
    return helper.pairs.filter(ended_on__isnull=True).count()


def unit_set_active(*, actor: User, unit: Unit, active: bool) -> Unit:
    access.require(actor, Cap.PAIRING_MANAGE)
    if not active:
        busy = Pair.objects.filter(helper__unit=unit, ended_on__isnull=True).count()
        if busy:
            raise FupinError(f"“{unit.name}”还有 {busy} 户结对未解除；结对一定三年不变，请先为这些户办理接替后再停用")
    with transaction.atomic():
        Unit.objects.filter(pk=unit.pk).update(active=active)
        if not active:
            Helper.objects.filter(unit=unit).update(active=False)
        audit.record(actor, AuditAction.UPDATE, object_type="pairing_unit", object_id=unit.pk,
                     summary=f"{'启用' if active else '停用'}帮扶单位：{unit.name}")
    unit.refresh_from_db()
    return unit


def helper_save(*, actor: User, unit: Unit, name: str, kind: str, title: str = "", exempt_reason: str = "",
                helper: Helper | None = None) -> Helper:
    """Create or edit a helper. Lowering a helper's quota below the households already paired
    is refused: the pairs are fixed for the term."""
    access.require(actor, Cap.PAIRING_MANAGE)
    name = name.strip()
    if not name:
        raise InvalidInput({"姓名": "必须填写"})
    _check_helper(kind, exempt_reason)
    if not unit.active:
        raise FupinError(f"帮扶单位“{unit.name}”已停用")
    if helper is not None and kind != helper.kind:
        current = _current_pairs(helper)
        capacity = p(unit.region_id, f"pairing.households_per_helper.{kind}", timezone.localdate())
        if current > capacity:
            raise FupinError(f"{helper.name} 现结对 {current} 户，改为“{HelperKind(kind).label}”（结对 {capacity} 户）前，"
                             "请先为多出的户办理接替")
    if Helper.objects.filter(unit=unit, name=name).exclude(pk=getattr(helper, "pk", None)).exists():
        raise InvalidInput({"姓名": f"“{unit.name}”已有帮扶责任人“{name}”"})
    values = {"unit": unit, "name": name[:40], "kind": kind, "title": title.strip()[:40], "exempt_reason": exempt_reason}
    with transaction.atomic():
        before = {} if helper is None else {"unit": helper.unit_id, "name": helper.name, "kind": helper.kind,
                                            "title": helper.title, "exempt_reason": helper.exempt_reason}
        if helper is None:
            helper = Helper.objects.create(**values)
        else:
            Helper.objects.filter(pk=helper.pk).update(**values)
            helper.refresh_from_db()
        audit.record(actor, AuditAction.UPDATE if before else AuditAction.CREATE, object_type="helper",
                     object_id=helper.pk, summary=f"{'修改' if before else '新增'}帮扶责任人：{unit.name} {helper.name}"
                                                 f"（{helper.get_kind_display()}）",
                     detail={"fields": audit.changes(before, {**values, "unit": unit.pk})})
    return helper


def helper_set_active(*, actor: User, helper: Helper, active: bool) -> Helper:
    access.require(actor, Cap.PAIRING_MANAGE)
    if not active and _current_pairs(helper):
        raise FupinError(f"{helper.name} 还有 {_current_pairs(helper)} 户结对未解除；结对一定三年不变，"
                         "请先办理接替（退休、调动、死亡时）后再停用")
    if active and not helper.unit.active:
        raise FupinError(f"帮扶单位“{helper.unit.name}”已停用")
    with transaction.atomic():
        Helper.objects.filter(pk=helper.pk).update(active=active)
        audit.record(actor, AuditAction.UPDATE, object_type="helper", object_id=helper.pk,
                     summary=f"{'启用' if active else '停用'}帮扶责任人：{helper.name}")
    helper.refresh_from_db()
    return helper


def helper_link_user(*, actor: User, helper: Helper, user: User | None) -> Helper:
    """Link a helper record to a login account (or unlink with None), so that account's home
    shows 我的帮扶户. Only a 帮扶责任人 account of the actor's area, not linked to another helper."""
    from fupin.core.roles import Role

    access.require(actor, Cap.PAIRING_MANAGE)
    if user is not None:
        if user.role != Role.PAIRING_HELPER or not user.region_id or not access.in_scope(actor, user.region_id):
            raise NotFound(f"找不到帮扶责任人账户“{user.username}”，或不在您的管辖范围内")
        other = Helper.objects.filter(user=user).exclude(pk=helper.pk).select_related("unit").first()
        if other is not None:
            raise FupinError(f"账户“{user.username}”已关联帮扶责任人 {other.unit.name} {other.name}；一个账户只能关联一人，"
                             "请先解除原关联")
    before = helper.user.username if helper.user_id else ""
    with transaction.atomic():
        Helper.objects.filter(pk=helper.pk).update(user=user)
        audit.record(actor, AuditAction.UPDATE, object_type="helper", object_id=helper.pk,
                     summary=f"帮扶责任人 {helper.name} " + (f"关联登录账户 {user.username}" if user else
                                                            f"解除登录账户 {before} 的关联"),
                     detail={"fields": audit.changes({"user": before}, {"user": user.username if user else ""})})
    helper.refresh_from_db()
    return helper


def team_save(*, actor: User, name: str, village_code: str, team: Team | None = None) -> Team:
    access.require(actor, Cap.PAIRING_MANAGE)
    if not name.strip():
        raise InvalidInput({"工作队名称": "必须填写"})
    village = _require_region(actor, village_code, 5, "所驻村")
    with transaction.atomic():
        if team is None:
            team = Team.objects.create(name=name.strip()[:80], village=village)
        else:
            Team.objects.filter(pk=team.pk).update(name=name.strip()[:80], village=village)
            team.refresh_from_db()
        audit.record(actor, AuditAction.CREATE, object_type="team", object_id=team.pk,
                     summary=f"驻村工作队：{team.name}（{village.name}）")
    return team


def team_set_active(*, actor: User, team: Team, active: bool) -> Team:
    access.require(actor, Cap.PAIRING_MANAGE)
    with transaction.atomic():
        Team.objects.filter(pk=team.pk).update(active=active)
        if not active:
            team.members.update(active=False)
        audit.record(actor, AuditAction.UPDATE, object_type="team", object_id=team.pk,
                     summary=f"{'恢复' if active else '撤回'}驻村工作队：{team.name}")
    team.refresh_from_db()
    return team


def team_member_add(*, actor: User, team: Team, name: str, user: User | None = None) -> TeamMember:
    access.require(actor, Cap.PAIRING_MANAGE)
    if not name.strip():
        raise InvalidInput({"队员姓名": "必须填写"})
    if not team.active:
        raise FupinError(f"工作队“{team.name}”已撤回")
    if team.members.filter(name=name.strip(), active=True).exists():
        raise InvalidInput({"队员姓名": f"“{team.name}”已有队员“{name.strip()}”"})
    with transaction.atomic():
        m = TeamMember.objects.create(team=team, name=name.strip()[:40], user=user)
        audit.record(actor, AuditAction.CREATE, object_type="team", object_id=team.pk,
                     summary=f"驻村工作队 {team.name} 增加队员 {m.name}")
    return m


def team_member_set_active(*, actor: User, member: TeamMember, active: bool) -> TeamMember:
    access.require(actor, Cap.PAIRING_MANAGE)
    with transaction.atomic():
        TeamMember.objects.filter(pk=member.pk).update(active=active)
        audit.record(actor, AuditAction.UPDATE, object_type="team", object_id=member.team_id,
                     summary=f"驻村工作队 {member.team.name} 队员 {member.name} {'归队' if active else '离队'}")
    member.refresh_from_db()
    return member


def helper_columns():
    from fupin.exchange import excel
    from fupin.exchange.excel import Column

    return [Column("unit", "单位", excel.text(80), required=True, aliases=("帮扶单位",)),
            Column("name", "姓名", excel.text(40), required=True, aliases=("帮扶责任人",)),
            Column("title", "职务", excel.text(40)),
            Column("kind", "类别", excel.choice(HelperKind), required=True),
            Column("exempt_reason", "免于结对原因", excel.choice(ExemptReason))]


def helpers_import(*, actor: User, data: bytes, filename: str = "") -> tuple[int, list, bytes | None]:
    """Helpers from a unit's Excel list (单位、姓名、职务、类别、免于结对原因): all or nothing.
    A unit not yet known is created in the importer's own region; a helper already listed is
    updated; the same file imported twice changes nothing the second time."""
    from fupin.exchange import excel
    from fupin.exchange.excel import FileRejected, Problem

    access.require(actor, Cap.IMPORT)
    access.require(actor, Cap.PAIRING_MANAGE)
    try:
        table = excel.read_table(data, helper_columns(), filename=filename)
    except FileRejected as exc:
        return 0, [Problem(None, None, None, None, exc.message)], None
    problems = list(table.problems)
    units = {u.name: u for u in Unit.objects.filter(name__in={v.get("unit") for _, v in table.rows})}
    seen: dict[tuple, int] = {}
    wanted = []
    for row, v in table.rows:
        if not {"unit", "name", "kind"} <= set(v):
            continue
        key = (v["unit"], v["name"])
        if key in seen:
            problems.append(Problem(row, None, "姓名", v["name"], f"与第{seen[key]}行重复"))
            continue
        seen[key] = row
        unit = units.get(v["unit"])
        if unit is not None and not access.in_scope(actor, unit.region_id):
            problems.append(Problem(row, None, "单位", v["unit"], "该单位不在您的管辖范围内"))
            continue
        if unit is not None and not unit.active:
            problems.append(Problem(row, None, "单位", v["unit"], "该单位已停用"))
            continue
        try:
            _check_helper(v["kind"], v.get("exempt_reason", ""))
        except InvalidInput as exc:
            problems += [Problem(row, None, k, None, m) for k, m in exc.errors.items()]
            continue
        wanted.append((row, v))
    if problems:
        return 0, problems, excel.error_workbook(table, problems)
    saved = 0
    try:
        with transaction.atomic():
            for row, v in wanted:
                unit = units.get(v["unit"]) or unit_save(actor=actor, name=v["unit"], region_code=actor.region_id)
                units[unit.name] = unit
                existing = Helper.objects.filter(unit=unit, name=v["name"]).first()
                same = existing is not None and (existing.kind, existing.title, existing.exempt_reason) == (
                    v["kind"], v.get("title", ""), v.get("exempt_reason", ""))
                if same:
                    continue
                try:
                    helper_save(actor=actor, unit=unit, name=v["name"], kind=v["kind"], title=v.get("title", ""),
                                exempt_reason=v.get("exempt_reason", ""), helper=existing)
                except FupinError as exc:
                    problems.append(Problem(row, None, None, None, exc.message))
                    raise
                saved += 1
    except FupinError:
        return 0, problems, excel.error_workbook(table, problems)
    return saved, [], None
