"""A synthetic county: regions, households, persons, incomes, guarantees and users.

Deterministic for a given seed. The same generator builds the demo county (15000 persons)
and the benchmark county (200000 persons, SPEC §15). Every ID number is valid and unique.
All people are fictitious.
"""
from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from fupin.core import idcard
from fupin.registry.choices import (Assistance, Attribute, Cause, Education, GuaranteeItem, Health,
                                    HousingGrade, Labour, Relation, Schooling, Sex, Standard, Status)

PROVINCE = ("510000000000", "四川省")
CITY = ("513400000000", "凉山彝族自治州")
COUNTY = ("513435000000", "甘洛县")
ID_PREFIX = "513435"
TODAY = dt.date(2026, 11, 1)  # fixed, so that a seed always gives the same county

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
            "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛阎段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
            "阿吉沙曲海尔木果")
GIVEN = ("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华玉萍红梅建国志文春林海燕晓云飞鹏辉斌波宇浩凯"
         "丹玲婷雪琴慧佳欣怡子涵梓轩浩宇雨泽一诺思远德福贵珍秀兰德明学军永红正华金花阿依拉哈")
TOWNSHIP_NAMES = ["新市坝镇", "田坝镇", "海棠镇", "吉米镇", "斯觉镇", "普昌镇", "玉田镇", "前进乡", "胜利乡",
                  "新茶乡", "两河乡", "黑马乡", "阿嘎乡", "阿尔乡", "波波乡", "蓼坪乡", "团结乡", "乌史大桥乡",
                  "坪坝乡", "则拉乡"]
VILLAGE_WORDS = ["桃源", "红星", "团结", "新华", "双河", "龙泉", "石门", "青杠", "核桃", "清水", "联合", "和平",
                 "东风", "光明", "马鞍", "白果", "柏林", "幸福", "河坝", "高山", "凉风", "松林", "中坪", "大坪"]


def weighted(rng: random.Random, table: list[tuple[object, float]]):
    r = rng.random() * sum(w for _, w in table)
    for value, w in table:
        r -= w
        if r <= 0:
            return value
    return table[-1][0]


STATUS_SHARES = [(Status.EXITED, 52), (Status.REGISTERED, 18), (Status.MONITORED, 12),
                 (Status.ELIMINATED, 8), (Status.APPLIED, 5), (Status.RETURNED, 3), (Status.DISSOLVED, 2)]
CAUSE_SHARES = [(Cause.ILLNESS, 30), (Cause.DISABILITY, 12), (Cause.SCHOOLING, 8), (Cause.DISASTER, 3),
                (Cause.LAND, 4), (Cause.WATER, 3), (Cause.SKILLS, 14), (Cause.LABOUR, 10), (Cause.CAPITAL, 9),
                (Cause.TRANSPORT, 3), (Cause.MOTIVATION, 3), (Cause.OTHER, 1)]
ATTRIBUTE_SHARES = [(Attribute.GENERAL, 70), (Attribute.DIBAO_POOR, 18), (Attribute.DIBAO, 6), (Attribute.TEKUN, 6)]


@dataclass
class PersonSpec:
    name: str
    sex: str
    id_number: str
    birth_date: dt.date
    relation: str
    education: str
    schooling: str
    health: str
    labour: str
    migrant_months: int
    medical_insurance: bool
    pension_insurance: bool
    assistance: str
    ethnicity: str = "汉族"
    disability_grade: int | None = None
    alive: bool = True
    death_date: dt.date | None = None


@dataclass
class HouseholdSpec:
    number: str
    village: str
    standard: str
    attribute: str
    main_cause: str
    other_cause_1: str
    status: str
    status_since: dt.date
    phone: str
    housing_area: int
    housing_grade: str
    relocated: bool
    bank_account: str
    persons: list[PersonSpec] = field(default_factory=list)
    incomes: list[dict] = field(default_factory=list)
    guarantees: list[dict] = field(default_factory=list)


@dataclass
class County:
    regions: list[tuple[str, str, int, str | None]]  # code, name, level, parent
    households: list[HouseholdSpec]

    @property
    def person_count(self) -> int:
        return sum(len(h.persons) for h in self.households)


def _regions(n_villages: int):
    regions = [(PROVINCE[0], PROVINCE[1], 1, None), (CITY[0], CITY[1], 2, PROVINCE[0]),
               (COUNTY[0], COUNTY[1], 3, CITY[0])]
    n_townships = max(4, min(len(TOWNSHIP_NAMES), n_villages // 6))
    villages = []
    for t in range(n_townships):
        tcode = f"{ID_PREFIX}{(100 if t < 7 else 200) + t:03d}000"
        regions.append((tcode, TOWNSHIP_NAMES[t], 4, COUNTY[0]))
    for v in range(n_villages):
        t = v % n_townships
        tcode = regions[3 + t][0]
        k = v // n_townships
        vcode = tcode[:9] + f"{200 + k:03d}"
        word = VILLAGE_WORDS[(v * 7 + k) % len(VILLAGE_WORDS)]
        regions.append((vcode, f"{word}村" if k < len(VILLAGE_WORDS) else f"{word}{k}村", 5, tcode))
        villages.append(vcode)
    return regions, villages


class _Ids:
    def __init__(self):
        self.used: set[str] = set()

    def make(self, rng: random.Random, birth: dt.date, sex: str) -> str:
        while True:
            seq = rng.randrange(0, 500) * 2 + (1 if sex == Sex.MALE else 0)
            value = idcard.make_id(ID_PREFIX, birth, seq)
            if value not in self.used:
                self.used.add(value)
                return value


def _name(rng: random.Random) -> str:
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
    return rng.choice(SURNAMES) + given


def _birth(rng: random.Random, age_lo: int, age_hi: int) -> dt.date:
    age_days = rng.randrange(age_lo * 365, age_hi * 365 + 1)
    return TODAY - dt.timedelta(days=age_days)


def _person(rng, ids, relation, age_lo, age_hi, sex=None, surname=None) -> PersonSpec:
    sex = sex or rng.choice([Sex.MALE, Sex.FEMALE])
    birth = _birth(rng, age_lo, age_hi)
    age = (TODAY - birth).days // 365
    name = _name(rng)
    if surname:
        name = surname + name[1:]
    health = weighted(rng, [(Health.HEALTHY, 72), (Health.CHRONIC, 15), (Health.SERIOUS, 5), (Health.DISABLED, 8)])
    if age < 16:
        labour = Labour.NONE
    elif age >= 65 or health in (Health.SERIOUS,):
        labour = weighted(rng, [(Labour.LOST, 60), (Labour.NONE, 40)])
    elif health == Health.DISABLED:
        labour = weighted(rng, [(Labour.LOST, 50), (Labour.ORDINARY, 50)])
    else:
        labour = weighted(rng, [(Labour.ORDINARY, 80), (Labour.SKILLED, 20)])
    if age < 3:
        schooling, education = Schooling.NOT_ENROLLED, Education.PRESCHOOL
    elif age < 6:
        schooling, education = Schooling.PRESCHOOL, Education.PRESCHOOL
    elif age < 12:
        schooling, education = Schooling.PRIMARY, Education.PRIMARY
    elif age < 15:
        schooling = Schooling.JUNIOR if rng.random() > 0.01 else Schooling.DROPPED_OUT
        education = Education.PRIMARY
    elif age < 18:
        schooling = weighted(rng, [(Schooling.SENIOR, 55), (Schooling.SEC_VOC, 35), (Schooling.NOT_IN_SCHOOL, 10)])
        education = Education.JUNIOR
    elif age < 22 and rng.random() < 0.3:
        schooling = weighted(rng, [(Schooling.HIGHER_VOC, 60), (Schooling.BACHELOR, 40)])
        education = Education.SENIOR
    else:
        schooling = Schooling.NOT_IN_SCHOOL
        education = weighted(rng, [(Education.NONE, 18), (Education.PRIMARY, 40), (Education.JUNIOR, 32),
                                   (Education.SENIOR, 7), (Education.VOCATIONAL, 2), (Education.COLLEGE, 1)])
    migrant = rng.choice([0, 0, 3, 6, 8, 10, 12]) if labour in (Labour.ORDINARY, Labour.SKILLED) else 0
    return PersonSpec(
        name=name, sex=sex, id_number=ids.make(rng, birth, sex), birth_date=birth, relation=relation,
        education=education, schooling=schooling, health=health, labour=labour, migrant_months=migrant,
        medical_insurance=rng.random() < 0.995, pension_insurance=age >= 16 and rng.random() < 0.85,
        assistance=Assistance.NONE, ethnicity="彝族" if rng.random() < 0.6 else "汉族",
        disability_grade=rng.randint(1, 4) if health == Health.DISABLED else None)


def _household(rng, ids, number, village) -> HouseholdSpec:
    status = weighted(rng, STATUS_SHARES)
    main = weighted(rng, CAUSE_SHARES)
    other = weighted(rng, CAUSE_SHARES)
    attribute = weighted(rng, ATTRIBUTE_SHARES)
    head = _person(rng, ids, Relation.HEAD, 28, 80, sex=Sex.MALE if rng.random() < 0.85 else Sex.FEMALE)
    persons = [head]
    surname = head.name[0]
    if attribute != Attribute.TEKUN and rng.random() < 0.75:
        persons.append(_person(rng, ids, Relation.SPOUSE, 25, 75,
                               sex=Sex.FEMALE if head.sex == Sex.MALE else Sex.MALE))
    if attribute != Attribute.TEKUN:
        for _ in range(weighted(rng, [(0, 15), (1, 35), (2, 30), (3, 15), (4, 5)])):
            persons.append(_person(rng, ids, Relation.CHILD, 0, 24, surname=surname))
        if rng.random() < 0.2:
            persons.append(_person(rng, ids, Relation.PARENT, 70, 90))
    if attribute in (Attribute.DIBAO, Attribute.DIBAO_POOR):
        for p in persons:
            p.assistance = Assistance.DIBAO
    elif attribute == Attribute.TEKUN:
        head.assistance = Assistance.TEKUN
    if main == Cause.ILLNESS and all(p.health == Health.HEALTHY for p in persons):
        head.health = Health.CHRONIC
    if status == Status.DISSOLVED:
        for p in persons:
            p.alive, p.death_date = False, TODAY - dt.timedelta(days=rng.randrange(30, 700))
    since = TODAY - dt.timedelta(days=rng.randrange(30, 2500))
    grade = weighted(rng, [(HousingGrade.A, 55), (HousingGrade.B, 40), (HousingGrade.C, 4), (HousingGrade.D, 1)])
    h = HouseholdSpec(
        number=number, village=village, standard=Standard.NATIONAL, attribute=attribute, main_cause=main,
        other_cause_1=other if other != main else "", status=status, status_since=since,
        phone=f"1{rng.choice('3578')}{rng.randrange(10 ** 9):09d}", housing_area=rng.randrange(40, 160),
        housing_grade=grade, relocated=rng.random() < 0.12,
        bank_account=f"6217{rng.randrange(10 ** 15):015d}", persons=persons)
    size = sum(p.alive for p in persons)
    if size:
        poor = status in (Status.REGISTERED, Status.MONITORED, Status.RETURNED, Status.APPLIED)
        for year in (2024, 2025):
            per_capita = rng.randrange(3000, 8000) if poor else rng.randrange(8000, 20000)
            total = per_capita * size * 100
            wages = total * rng.randrange(30, 70) // 100
            transfers = total * rng.randrange(5, 25) // 100
            prop = total * rng.randrange(0, 5) // 100
            costs = total * rng.randrange(5, 15) // 100
            h.incomes.append(dict(year=year, wages=wages, business=total - wages - transfers - prop + costs,
                                  transfers=transfers, property_income=prop, costs=costs, size=size,
                                  recorded_on=dt.date(year + 1, 1, 15), source="入户调查"))
        checked = TODAY - dt.timedelta(days=rng.randrange(10, 300))
        for item in GuaranteeItem.values:
            met = grade in (HousingGrade.A, HousingGrade.B) if item == GuaranteeItem.HOUSING else rng.random() < 0.97
            details = {"每人每天用水（升）": rng.randrange(35, 80), "取水往返（分钟）": rng.randrange(0, 20)} \
                if item == GuaranteeItem.WATER else {}
            h.guarantees.append(dict(item=item, met=met, checked_on=checked, checked_by="驻村工作队",
                                     evidence=f"入户核查表 {checked:%Y%m}-{number[-4:]}", details=details))
    return h


def generate(persons: int = 15000, *, households: int = 0, seed: int = 2026, min_villages: int = 24,
             living: bool = False) -> County:
    """At least `persons` persons (living ones only, if `living`) and `households` households."""
    rng = random.Random(seed)
    n_villages = max(min_villages, persons // 800)
    regions, villages = _regions(n_villages)
    ids = _Ids()
    made: list[HouseholdSpec] = []
    count = 0
    while count < persons or len(made) < households:
        village = villages[len(made) % len(villages)]
        number = f"{village}{len(made) // len(villages) + 1:04d}"
        h = _household(rng, ids, number, village)
        made.append(h)
        count += sum(p.alive for p in h.persons) if living else len(h.persons)
    return County(regions=regions, households=made)


# ---- writing the county ----------------------------------------------------------------------

def seed_regions(county: County) -> None:
    from fupin.core.models import Region

    Region.objects.bulk_create([Region(code=c, name=n, level=lv, parent_id=p, valid_from=dt.date(2024, 1, 1))
                                for c, n, lv, p in county.regions], ignore_conflicts=True)


def seed_database(county: County, *, actor=None) -> None:
    """Bulk-insert the county (regions, households, persons, incomes, guarantees, events)."""
    from django.db import transaction

    from fupin.core.models import AuditAction, AuditEvent
    from fupin.registry.choices import EventKind
    from fupin.registry.models import Guarantee, Household, Income, MembershipEvent, Person

    from fupin.core.bulk import insert_rows

    name = actor.username if actor else "演示数据生成器"
    with transaction.atomic():
        seed_regions(county)
        for start in range(0, len(county.households), 5000):
            batch = county.households[start:start + 5000]
            insert_rows(Household, [dict(number=h.number, village_id=h.village, standard=h.standard,
                                         attribute=h.attribute, main_cause=h.main_cause, other_cause_1=h.other_cause_1,
                                         status=h.status, status_since=h.status_since, phone=h.phone,
                                         housing_area=h.housing_area, housing_grade=h.housing_grade,
                                         relocated=h.relocated, bank_name="农村信用社", bank_account=h.bank_account)
                                    for h in batch])
            pk_of = dict(Household.objects.filter(number__in=[h.number for h in batch]).values_list("number", "pk"))
            persons, incomes, guarantees = [], [], []
            for spec in batch:
                hid = pk_of[spec.number]
                for p in spec.persons:
                    persons.append({**p.__dict__, "household_id": hid, "id_reversed": p.id_number[::-1]})
                incomes += [{**i, "household_id": hid} for i in spec.incomes]
                guarantees += [{**g, "household_id": hid} for g in spec.guarantees]
            insert_rows(Person, persons)
            insert_rows(Income, incomes)
            insert_rows(Guarantee, guarantees)
            ids = [p["id_number"] for p in persons]
            members = []
            for i in range(0, len(ids), 5000):
                members += list(Person.objects.filter(id_number__in=ids[i:i + 5000]).values_list("pk", "household_id"))
            insert_rows(MembershipEvent, [dict(kind=EventKind.REGISTER, person_id=pk, to_household_id=hid,
                                               from_household_id=None, date=dt.date(2024, 1, 1), note="演示数据",
                                               recorded_by_id=actor.pk if actor else None) for pk, hid in members])
            insert_rows(AuditEvent, [dict(actor_id=actor.pk if actor else None, actor_name=name,
                                          action=AuditAction.CREATE, object_type="household", object_id=str(hid),
                                          household_id=hid, summary=f"建档 {number}（演示数据）", result="ok",
                                          detail={}, ip=None) for number, hid in pk_of.items()])


def template_rows(county: County):
    """The county as rows of the import template (one row per person)."""
    from fupin.exchange.households import COLUMNS

    labels = {}
    for enum in (Standard, Attribute, Cause, Status, HousingGrade, Sex, Relation, Education, Schooling,
                 Health, Labour, Assistance):
        labels.update({(enum.__name__, v): l for v, l in enum.choices})
    yield [c.header for c in COLUMNS]
    for h in county.households:
        for p in h.persons:
            if not p.alive:
                continue
            yield [h.number, h.village, labels["Standard", h.standard], labels["Attribute", h.attribute],
                   labels["Cause", h.main_cause], labels["Cause", h.other_cause_1] if h.other_cause_1 else "",
                   labels["Status", h.status], h.status_since.isoformat(), h.phone, "", h.housing_area,
                   labels["HousingGrade", h.housing_grade], "是" if h.relocated else "否", "农村信用社",
                   h.bank_account, p.name, labels["Sex", p.sex], p.id_number, p.birth_date.isoformat(),
                   labels["Relation", p.relation], p.ethnicity, labels["Education", p.education] if p.education else "",
                   labels["Schooling", p.schooling], labels["Health", p.health], labels["Labour", p.labour],
                   p.migrant_months, "是" if p.medical_insurance else "否", "是" if p.pension_insurance else "否",
                   labels["Assistance", p.assistance]]


def write_workbook(county: County, path) -> int:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("户籍成员")
    n = 0
    for row in template_rows(county):
        ws.append(row)
        n += 1
    wb.save(path)
    return n - 1


DEMO_PASSWORD = "Demo#2026fupin"  # demo accounts only work when FUPIN_DEMO=1


def demo_users(county: County):
    """(username, full name, role, region code) for every role and region level."""
    township = next(c for c, _, lv, _ in county.regions if lv == 4)
    village = next(c for c, _, lv, p in county.regions if lv == 5 and p == township)
    county_code = COUNTY[0]
    return [
        ("admin", "县管理员", "county_admin", county_code),
        ("county", "县扶贫办", "county_officer", county_code),
        ("township", "乡镇干部", "township_officer", township),
        ("village", "村干部", "village_cadre", village),
        ("helper", "帮扶责任人", "pairing_helper", village),
        ("school", "学校资助专干", "school_aid", county_code),
        ("hospital", "医院结算窗口", "hospital_window", county_code),
        ("health", "卫健局", "health_officer", county_code),
        ("civil", "民政局", "civil_affairs", county_code),
        ("inspector", "县督查", "inspector", county_code),
        ("city_inspector", "州督查", "inspector", CITY[0]),
        ("province_inspector", "省督查", "inspector", PROVINCE[0]),
        ("auditor", "审计", "auditor", county_code),
        ("medical", "州医院医务部", "medical_affairs", CITY[0]),
        ("doctor", "派驻医生", "support_staff", CITY[0]),
    ]


def seed_demo_users(county: County):
    from django.utils import timezone

    from django_otp.plugins.otp_totp.models import TOTPDevice

    from fupin.core.models import User

    created = []
    for username, full, role, region in demo_users(county):
        user, _ = User.objects.get_or_create(username=username, defaults=dict(
            first_name=full, role=role, region_id=region, is_demo=True, password_changed_at=timezone.now()))
        user.set_password(DEMO_PASSWORD)
        user.password_changed_at = timezone.now()
        user.save()
        TOTPDevice.objects.get_or_create(user=user, confirmed=True, defaults={"name": "验证器"})
        created.append(user)
    return created


def demo_totp_secrets(county: County) -> dict[str, str]:
    """Each demo account's TOTP secret (base32), so the second factor can be tried and scripted.
    Demo mode only (FUPIN_DEMO=1): a real deployment never shows a secret again after setup."""
    from django.conf import settings

    from fupin.core import otp
    from fupin.core.models import User

    if not settings.DEMO:
        return {}
    names = [username for username, *_ in demo_users(county)]
    return {u.username: otp.demo_secret(u) for u in User.objects.filter(username__in=names, is_demo=True)}


def seed_demo_department_lists(county: County, *, as_of=None) -> int:
    """Other departments' lists (civil affairs, health, public security …) as a county office would
    import them, linked to the registry: a realistic handful of findings of every kind for the
    village to-do lists. Returns the number of warnings."""
    from django.utils import timezone

    from fupin.core.models import User
    from fupin.monitoring import lists, services, synthetic
    from fupin.monitoring.models import Batch, Warning
    from fupin.registry.models import Person

    if Batch.objects.exists():
        return Warning.objects.count()
    officer = User.objects.filter(role="county_officer", region_id=COUNTY[0]).first() \
        or User.objects.filter(role="county_officer").first()
    from .play import history_day, on

    day = history_day(timezone.localdate())
    as_of = min(as_of or day, day)
    persons = list(Person.objects.select_related("household"))
    with on(day):   # the findings' answer deadlines are counted as on the history's last day
        for kind, (source, data) in synthetic.demo_lists(persons, as_of=as_of).items():
            report = services.batch_import(actor=officer, kind=kind, source=source, as_of=as_of, data=data,
                                           filename=f"{source}-{lists.kinds()[kind].label}.csv")
            if report.ok and report.batch is not None:
                services.batch_link(actor=officer, batch_id=report.batch.pk)
    return Warning.objects.count()


# The grades of each stage, and the age on 1 September at which a child starts its first grade.
GRADES = {"preschool": (3, 3), "primary": (6, 6), "junior": (3, 12), "senior": (3, 15), "sec_voc": (3, 15)}


def _grade(stage: str, birth: dt.date, semester: str) -> int:
    """The grade a child of this age is in (a spring semester belongs to the school year begun the
    autumn before), within the grades its stage has: no “小学 9年级”."""
    year, season = semester.split("-")
    start = dt.date(int(year) - (season == "spring"), 9, 1)
    age = start.year - birth.year - ((start.month, start.day) < (birth.month, birth.day))
    grades, first_age = GRADES[stage]
    return min(grades, max(1, age - first_age + 1))


def seed_demo_extras(county: County) -> None:
    """Schools and this year's roster, an education budget, a hospital and funded top-up accounts."""
    import datetime as dt

    from django.utils import timezone

    from fupin.core.models import User
    from fupin.education.models import Enrolment, School
    from fupin.funds import services as funds
    from fupin.health.models import Hospital
    from fupin.registry.models import Person

    if School.objects.exists():
        return
    rng = random.Random(7)
    officer = User.objects.filter(role="county_officer").first() or User.objects.create(
        username="system-demo", role="county_officer", region_id=COUNTY[0], is_demo=True,
        password_changed_at=timezone.now())
    townships = [c for c, _, lv, _ in county.regions if lv == 4]
    schools = []
    for i, t in enumerate(townships):
        village = next(c for c, _, lv, p in county.regions if lv == 5 and p == t)
        schools.append(School.objects.create(code=f"{t[6:9]}01", name=f"{TOWNSHIP_NAMES[i]}中心小学", region_id=village,
                                             principal=_name(rng)))
        schools.append(School.objects.create(code=f"{t[6:9]}02", name=f"{TOWNSHIP_NAMES[i]}中学", region_id=village,
                                             principal=_name(rng)))
    year = TODAY.year
    # Students at schools in the county (college students study outside it and are not on a roster);
    # secondary vocational pupils at the county's vocational school, the others in their township.
    stage_of = {"preschool": "preschool", "primary": "primary", "junior": "junior", "senior": "senior",
                "sec_voc": "sec_voc"}
    vocational = School.objects.create(code=f"{townships[0][6:9]}09", name="甘洛县职业技术学校",
                                       region_id=schools[0].region_id, principal=_name(rng))
    enrolments = []
    by_township = {t[:9]: [s for s in schools if s.region_id.startswith(t[:9])] for t in townships}
    for p in Person.objects.filter(alive=True, schooling__in=list(stage_of)).select_related("household"):
        local = by_township.get(p.household.village_id[:9]) or schools
        stage = stage_of[p.schooling]
        school = vocational if stage == "sec_voc" else local[0] if stage in ("preschool", "primary") else local[-1]
        for sem in (f"{year}-spring", f"{year}-autumn"):
            enrolments.append(Enrolment(person=p, school=school, semester=sem, stage=stage,
                                        grade=_grade(stage, p.birth_date, sem), boarding=rng.random() < 0.4,
                                        fee=rng.choice([0, 0, 80000, 120000]) if stage_of[p.schooling] in
                                        ("preschool", "senior", "sec_voc") else 0))
    Enrolment.objects.bulk_create(enrolments, batch_size=5000)
    budget = funds.budget_create(actor=officer, code=f"edu-{year}-central", name=f"{year}年中央教育资助资金",
                                 source="central", programme="education", year=year, region=COUNTY[0])
    funds.budget_allocate(actor=officer, budget=budget, amount=2_000_000_000, date=dt.date(year, 1, 10),
                          decision_id=f"财教〔{year}〕演示1号")
    Hospital.objects.create(code="H513435", name="甘洛县人民医院", region_id=COUNTY[0], level="county")
    Hospital.objects.create(code="H513435T1", name=f"{TOWNSHIP_NAMES[0]}卫生院", region_id=townships[0], level="township")
    from fupin.support.models import Department, Staff
    from fupin.support.services import plan_generate

    city_hospital = Hospital.objects.create(code="H5134", name="凉山州第一人民医院", region_id=CITY[0], level="city")
    for order, dept in enumerate(["内科", "外科", "妇产科", "儿科", "急诊科", "中医科"], start=1):
        d = Department.objects.create(hospital=city_hospital, name=dept, order=order)
        for k in range(5):
            Staff.objects.create(department=d, name=_name(rng), title="intermediate")
    doctor = User.objects.filter(username="doctor").first()
    if doctor:
        first = Staff.objects.filter(department__name="内科").order_by("id").first()
        Staff.objects.filter(pk=first.pk).update(user=doctor)
    medical = User.objects.filter(role="medical_affairs").first()
    if medical:
        township_hospital = Hospital.objects.get(code="H513435T1")
        plan_generate(actor=medical, hospital=city_hospital, supported=township_hospital, year=TODAY.year, quarter=1,
                      quarters=4)
    # pairing: a county unit's staff with households of the first village (the demo helper among them)
    from fupin.pairing.models import Helper, Unit
    from fupin.pairing.services import pair

    unit = Unit.objects.create(name="甘洛县教育局", region_id=COUNTY[0])
    village = next(c for c, _, lv, p in county.regions if lv == 5)
    helper_user = User.objects.filter(username="helper").first()
    from fupin.registry.models import Household as _H
    targets = list(_H.objects.filter(village_id=village, status__in=["registered", "monitored", "returned"]).order_by("number")[:4])
    leader = Helper.objects.create(unit=unit, name=_name(rng), kind="leader")
    staff = Helper.objects.create(unit=unit, name=_name(rng), kind="staff", user=helper_user)
    for helper, hh in zip([leader, leader, staff], targets):
        pair(actor=officer, helper=helper, household=hh, start=dt.date(year, 1, 5))
    from fupin.demo import labour as demo_labour
    demo_labour.seed(county, officer=officer, today=TODAY, rng=random.Random(18))
    for code, name, amount in (("jzfp", "健康扶贫救助基金", 500_000_000), ("axjj", "慈善爱心救助基金", 100_000_000)):
        account = funds.topup_fund_account(region_code=COUNTY[0], fund=code, name=name)  # the county's own fund
        funds.budget_allocate(actor=officer, budget=account, amount=amount, date=dt.date(year, 1, 10),
                              decision_id=f"演示拨款-{code}")
    from fupin.demo import welfare as demo_welfare   # social assistance recipients (fupin/demo/welfare.py)
    demo_welfare.seed(county, actor=officer)
    from .play import seed   # every role's to-do list: workflows at each step, visits, signings, records
    seed(county)
    from fupin.health.seed import seed as health_seed  # 三个一批 patients at every stage (issue 17)
    health_seed(actor=User.objects.filter(role="health_officer").order_by("pk").first(), year=year)
    from fupin.demo import villages as demo_villages  # villages room: register, duties, plan, leading group

    demo_villages.seed(county, officer=officer, today=TODAY)
    from fupin.demo import schools as demo_schools  # issue #22: schools, teachers, 两后生, public health, reminders
    demo_schools.seed(county, officer=officer, today=TODAY)
    # projects and charity (issue 19): each room's demo lives in its own module
    from fupin.demo import charity as demo_charity, projects as demo_projects
    demo_projects.seed(county, year=year)
    demo_projects.seed_support(county, year=year)
    demo_charity.seed(county, year=year)
    from fupin.demo import learning as demo_learning   # learning support pairs (学困生帮扶)
    demo_learning.seed(county, today=TODAY)
    from fupin.demo import whatif as demo_whatif   # policy what-if (issue 20): claims and three scenarios
    demo_whatif.seed(county, year=year)
