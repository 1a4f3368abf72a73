"""A demo one can play through (issue 13 §6): something in every role's to-do list.

Workflows at every step (one waiting at each tier, one whose 7-day notice is running — move the
demo clock with `fupin demo clock +7d` and the next tier may act — one overdue, one sent back, one
with an objection, some completed), the demo helper's visits (one with a photo) and measures,
family-doctor signings and services, the seconded doctor's records, and a locked account for the
administrator to unlock. Everything is written through the rooms' own services (so every row has
its audit event), except the family-doctor signings, which have no service yet and are bulk data
like the rest of the synthetic county. Runs once: a second call finds the workflows and stops.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import io
import random

from django.utils import timezone


@contextlib.contextmanager
def on(day: dt.date):
    """Let the workflows, the department-list comparison and the social-assistance applications act as on
    `day` (a history that started weeks ago). Demo seeding only."""
    from fupin.monitoring import services as monitoring
    from fupin.welfare import services as welfare
    from fupin.workflows import services as wf

    real = wf.today, monitoring.today, welfare.today
    wf.today = monitoring.today = welfare.today = lambda: day
    try:
        yield
    finally:
        wf.today, monitoring.today, welfare.today = real


def history_day(today: dt.date) -> dt.date:
    """The day the demo's history ends: today, unless a deadline counted from today would reach a year
    whose holiday arrangement is not entered yet (late in a year, before the State Council's notice is
    entered): then the last week before that from which the longest span the demo county's procedures
    count at once (a procedure's total, or a step's notice and the next step's time) still ends in an
    entered year (notice days, calendar days, are counted as working days: never too short). The demo
    never guesses a calendar either."""
    from fupin.policy import calendar
    from fupin.policy.errors import PolicyError
    from fupin.policy.packs import shipped_packs
    from fupin.workflows.models import Kind

    from .generator import COUNTY

    chain, longest = shipped_packs().for_region(COUNTY[0]), 0
    for kind in Kind.values:
        try:
            d = chain.lookup(f"workflow.{kind}", today).value
        except PolicyError:
            continue
        # a step's deadline is counted when the step before it ends (after that step's notice, if any)
        steps = d["steps"]
        spans = [steps[0]["due_working_days"]] + [a.get("notice_days", 0) + b["due_working_days"]
                                                  for a, b in zip(steps, steps[1:])]
        longest = max(longest, d.get("total_working_days") or 0, *spans)
    day = today
    while day.year >= today.year - 1:
        try:
            calendar.add_working_days(day, longest)
            return day
        except PolicyError:
            day -= dt.timedelta(days=7)
    return today   # no year entered at all: the history is skipped where it needs one


def _user(username: str, role: str, region: str | None = None):
    from fupin.core.models import User

    return (User.objects.filter(username=username, is_active=True).first()
            or User.objects.filter(role=role, **({"region_id": region} if region else {})).first())


def _workflows(village: str, today: dt.date) -> int:
    """(kind, start statuses) scenarios in the demo village; each stops at a different step."""
    from fupin.core.errors import FupinError
    from fupin.registry.models import Household
    from fupin.workflows import services as wf
    from fupin.workflows.models import Instance

    cadre = _user("village", "village_cadre", village)
    township = _user("township", "township_officer", village[:9] + "000")
    county = _user("county", "county_officer")
    by_tier = {"village": cadre, "township": township, "county": county}
    if None in by_tier.values():
        return 0
    used: set[int] = set()

    def household(statuses):
        h = (Household.objects.filter(village_id=village, status__in=statuses).exclude(pk__in=used)
             .order_by("number").first())
        if h is not None:
            used.add(h.pk)
        return h

    def run(kind, statuses, *, approve: int, days_ago: int, gap: int = 0, reject: bool = False, **start):
        """Start `days_ago` days ago and approve `approve` steps, each `gap` days after the last
        (a notice must run its length before the next step); optionally send the next one back."""
        h = household(statuses)
        if h is None:
            return None
        day = today - dt.timedelta(days=days_ago)
        try:
            with on(day):
                inst = wf.start(actor=cadre, household=h, kind=kind, comment="演示：入户了解后发起", **start)
            for _ in range(approve):
                step = inst.current
                with on(day):
                    inst = wf.act(actor=by_tier[wf._tier(inst, step)], instance_id=inst.pk, step_key=step["key"],
                                  decision="approve", comment="演示：材料齐全",
                                  verifiers=["村支书", "驻村第一书记"], evidence=["认可书扫描件.pdf"],
                                  override_reason="演示：经村民代表评议同意")
                day += dt.timedelta(days=step.get("notice_days", 0) + gap)
            if reject and inst.current is not None:
                step = inst.current
                with on(day):
                    inst = wf.act(actor=by_tier[wf._tier(inst, step)], instance_id=inst.pk, step_key=step["key"],
                                  decision="reject", comment="演示：收入核算缺少务工证明，请补充后重新提交")
        except FupinError:
            return None
        return inst

    if Instance.objects.filter(household__village_id=village).exists():
        return Instance.objects.filter(household__village_id=village).count()
    ident = ["applied"]
    run("identification", ident, approve=0, days_ago=1)                  # village: 农户申请
    run("identification", ident, approve=1, days_ago=3)                  # village: 民主评议
    noticed = run("identification", ident, approve=3, days_ago=0)        # first notice running: +7d to go on
    run("identification", ident, approve=3, days_ago=12, gap=1)          # township: 乡镇审核
    run("identification", ident, approve=4, days_ago=24, gap=1)          # county: 县级复审
    run("identification", ident, approve=5, days_ago=40, gap=1)          # completed
    run("identification", ident, approve=1, days_ago=6, reject=True)     # sent back to the cadre
    monitored = ["exited", "eliminated"]
    run("monitoring", monitored, approve=0, days_ago=30, channel="cadre", monitored_type="unstable")  # overdue
    run("monitoring", monitored, approve=1, days_ago=2, channel="self", monitored_type="sudden")
    run("monitoring", monitored, approve=4, days_ago=15, gap=1, channel="department", monitored_type="marginal")
    run("exit", ["registered", "returned"], approve=1, days_ago=4)    # village: 核实 by two people
    run("exit", ["registered", "returned"], approve=4, days_ago=20, gap=1)   # county: 公告并销号
    run("risk_elimination", ["monitored"], approve=1, days_ago=3)
    run("return", ["exited"], approve=0, days_ago=2)
    run("remark", ["eliminated"], approve=1, days_ago=2)                  # county: 县级确定
    if noticed is not None:
        notice = noticed.notices.order_by("-id").first()
        if notice is not None:
            with on(today):
                wf.objection_lodge(notice=notice, by_name="村民代表", content="该户去年家中有人在外务工，收入可能偏高，请核实",
                                   via="cadre", actor=cadre)
    return Instance.objects.filter(household__village_id=village).count()


def _photo(text: str) -> bytes:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (800, 600), (150, 180, 140))
    draw = ImageDraw.Draw(img)
    draw.rectangle((200, 250, 600, 520), fill=(200, 170, 120))      # a house
    draw.polygon([(170, 260), (400, 110), (630, 260)], fill=(140, 70, 50))
    draw.rectangle((360, 380, 440, 520), fill=(90, 60, 40))
    draw.text((20, 20), text, fill=(255, 255, 255))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=80)
    return out.getvalue()


def _pairing(today: dt.date) -> int:
    from fupin.core.models import User
    from fupin.pairing import services
    from fupin.pairing.models import Pair, Visit

    helper_user = User.objects.filter(username="helper").first()
    helper = getattr(helper_user, "helper", None) if helper_user else None
    if helper is None or Visit.objects.filter(helper=helper).exists():
        return 0
    pairs = list(Pair.objects.filter(helper=helper, ended_on__isnull=True).select_related("household"))
    notes = [("了解家庭收入和务工情况，宣讲产业扶持政策", "子女上学交通不便"),
             ("查看住房和饮水情况，帮助联系农技员", ""),
             ("核对家庭成员医保参保，讲解一站式结算", "老人慢病需要定期取药")]
    n = 0
    for i, pr in enumerate(pairs):
        for k, (done, found) in enumerate(notes):
            day = today - dt.timedelta(days=50 * (k + 1) + 3 * i)
            photos = [_photo(f"visit {day:%Y-%m-%d}")] if k == 0 else []
            services.visit_record(actor=helper_user, household=pr.household, date=day, minutes=60 + 15 * k, done=done,
                                  found=found, satisfaction="satisfied", photos=photos,
                                  client_token=f"demo-visit-{pr.pk}-{k}")
            n += 1
        services.measure_record(actor=helper_user, household=pr.household, kind="industry", money=150000,
                                date=today - dt.timedelta(days=90 + i), description="发放核桃苗 100 株并指导栽种")
        services.measure_record(actor=helper_user, household=pr.household, kind="employment", money=0,
                                date=today - dt.timedelta(days=40 + i), description="推荐到县城建筑工地务工")
    return n


def _family_doctors(today: dt.date) -> int:
    """Family-doctor signings of the registered poor with a chronic or serious illness or a
    disability (most, not all: the board's signing rate should not read 100%), and their services."""
    from fupin.health.models import Contract, Service
    from fupin.registry.models import Person

    if Contract.objects.exists():
        return Contract.objects.count()
    rng = random.Random(11)
    persons = list(Person.objects.filter(alive=True, health__in=["chronic", "serious", "disabled"],
                                         household__status__in=["registered", "monitored", "returned"])
                   .order_by("pk").values_list("pk", "household__village_id"))
    contracts, services = [], []
    for pk, village in persons:
        if rng.random() < 0.08:
            continue
        team = f"{village[6:9]}乡镇卫生院家庭医生团队"
        doctor = rng.choice(["吉克医生", "王医生", "阿苏医生", "李医生", "沙马医生"])
        signed = dt.date(today.year, 1, 1) + dt.timedelta(days=rng.randrange(0, 60))
        contracts.append(Contract(person_id=pk, team=team, doctor=doctor, signed_on=signed,
                                  valid_to=dt.date(today.year, 12, 31)))
        for q in range(1, 5):
            day = dt.date(today.year, 3 * q - 2, 1) + dt.timedelta(days=rng.randrange(0, 80))
            if day <= today and rng.random() < 0.85:
                services.append(Service(person_id=pk, kind="followup", date=day, team=team, doctor=doctor))
    Contract.objects.bulk_create(contracts, batch_size=2000)
    Service.objects.bulk_create(services, batch_size=2000, ignore_conflicts=True)
    return len(contracts)


def _support(today: dt.date) -> int:
    """The seconded doctor's teaching, ward rounds and attendance on the working days so far."""
    from fupin.core.errors import FupinError
    from fupin.policy import calendar
    from fupin.support import services
    from fupin.support.models import Activity, Member

    doctor = _user("doctor", "support_staff")
    if doctor is None:
        return 0
    n = 0
    for member in Member.objects.filter(staff__user=doctor).select_related("dispatch"):
        if Activity.objects.filter(member=member).exists():
            continue
        day, last = member.dispatch.handover, min(member.dispatch.end, today)
        while day <= last and n < 40:
            try:
                if calendar.is_working_day(day):
                    services.activity_record(actor=doctor, member=member, kind="attendance", date=day)
                    n += 1
                    if day.weekday() == 1:
                        services.activity_record(actor=doctor, member=member, kind="teaching", date=day,
                                                 note="常见慢病规范用药讲座")
                    if day.weekday() == 3:
                        services.activity_record(actor=doctor, member=member, kind="rounds", date=day,
                                                 note="内科病房教学查房")
            except FupinError:
                pass
            day += dt.timedelta(days=1)
    return n


def _education_run(county_code: str) -> int:
    """The school aid office has computed this autumn's run: the county office's to-do is to review
    and approve it (the roster and the run are the school's home page)."""
    from fupin.education import services
    from fupin.education.models import SubsidyRun
    from fupin.funds.models import Account, AccountKind

    school = _user("school", "school_aid")
    budget = Account.objects.filter(kind=AccountKind.BUDGET, programme="education", region_id=county_code).first()
    if school is None or budget is None or SubsidyRun.objects.exists():
        return SubsidyRun.objects.count()
    from fupin.core.errors import FupinError

    from .generator import TODAY   # the roster's semesters are those of the generated county's year
    try:
        run = services.run_compute(actor=school, semester=f"{TODAY.year}-autumn", region_code=county_code,
                                   budget=budget)
    except FupinError:
        return 0
    return run.lines_count


def _locked_account(county_code: str) -> None:
    """An account locked by failed logins: the administrator's to-do (unlock it)."""
    from django.conf import settings

    from fupin.core.models import User

    user, created = User.objects.get_or_create(username="cadre2", defaults=dict(
        first_name="村干部二", role="village_cadre", region_id=User.objects.get(username="village").region_id
        if User.objects.filter(username="village").exists() else county_code, is_demo=True,
        password_changed_at=timezone.now()))
    if created:
        from .generator import DEMO_PASSWORD

        user.set_password(DEMO_PASSWORD)
        user.save()
    User.objects.filter(pk=user.pk).update(
        failed_logins=0, locked_until=timezone.now() + dt.timedelta(minutes=settings.LOGIN_LOCK_MINUTES))


def seed(county) -> dict:
    """Fill every role's to-do list in the demo county. Returns what it made, for the demo's printout."""
    from .generator import COUNTY

    today = history_day(timezone.localdate())
    village = next(c for c, _, lv, p in county.regions if lv == 5 and p == next(
        c2 for c2, _, lv2, _ in county.regions if lv2 == 4))
    return {"workflows": _workflows(village, today), "visits": _pairing(today),
            "family_doctor": _family_doctors(today), "support": _support(today),
            "education": _education_run(COUNTY[0]),
            "locked": _locked_account(COUNTY[0])}
