"""/health/ at county size (issue 13 §3): the follow-up list, the contract and management rates, the
check-ups and the certificates are counted, sorted and paged by the database. Every figure must be
what a straightforward reading of the rules gives: here each is computed again, plainly, in Python
over every person of a seeded county (the demo generator) with services, conditions, contracts,
pregnancies and certificates of every kind, and compared exactly."""
from __future__ import annotations

import datetime as dt
import io
import random

import pytest
from openpyxl import load_workbook

from fupin.health import followup, selectors
from fupin.health.programmes import disease_lists
from fupin.health.services import packs

COUNTY = "513435000000"
ON = dt.date(2026, 9, 15)


@pytest.fixture
def county(db):
    from fupin.core.models import User
    from fupin.demo import generator
    from fupin.health.models import Certificate, Condition, Contract, Pregnancy, Service
    from fupin.registry.models import Person

    c = generator.generate(700, households=200, min_villages=4, seed=13)
    generator.seed_database(c)
    generator.seed_demo_users(c)
    rng = random.Random(13)
    persons = list(Person.objects.order_by("pk"))
    chronic, special = sorted(disease_lists()["chronic"]), sorted(disease_lists()["special"])
    services, conditions, contracts, certificates = [], [], [], []
    day = lambda lo, hi: lo + dt.timedelta(days=rng.randrange((hi - lo).days + 1))  # noqa: E731
    for n, p in enumerate(persons):
        if rng.random() < 0.15:   # chronic and special diagnoses, some resolved, some diagnosed after ON
            code = rng.choice(chronic + special)
            resolved = rng.choice([None, None, None, dt.date(2026, 3, 1), dt.date(2026, 12, 1)])
            conditions.append(Condition(person=p, code=code, diagnosed_on=day(dt.date(2020, 1, 1), dt.date(2026, 12, 1)),
                                        resolved_on=resolved))
            if rng.random() < 0.5:
                start = day(dt.date(2024, 1, 1), dt.date(2026, 9, 1))
                certificates.append(Certificate(person=p, kind="special" if code in special else "chronic", disease=code,
                                                number=f"Z{n}", valid_from=start, valid_to=start + dt.timedelta(days=365)))
        for kind in ("check", "followup", "child_check", "assessment", "prenatal", "postnatal"):
            for d in {day(dt.date(2025, 10, 1), dt.date(2026, 12, 31)) for _ in range(rng.choice([0, 0, 1, 2, 3, 4]))}:
                services.append(Service(person=p, kind=kind, date=d))
        if rng.random() < 0.6:   # live, expired, ended before ON, ended after ON, not yet signed
            signed = day(dt.date(2025, 1, 1), dt.date(2026, 12, 1))
            ended = rng.choice([None, None, None, dt.date(2026, 6, 1), dt.date(2026, 10, 1)])
            contracts.append(Contract(person=p, team=rng.choice(["一组", "二组", "三组"]), doctor="医生", signed_on=signed,
                                      valid_to=signed + dt.timedelta(days=364), ended_on=ended))
    Condition.objects.bulk_create(conditions)
    Service.objects.bulk_create(services)
    Contract.objects.bulk_create(contracts)
    Certificate.objects.bulk_create(certificates)
    women = [p for p in persons if p.sex == "F" and dt.date(1986, 1, 1) <= p.birth_date <= dt.date(2004, 1, 1)][:40]
    for i, w in enumerate(women):   # pregnant, delivered within the postnatal period, delivered long ago
        registered = day(dt.date(2026, 1, 1), dt.date(2026, 9, 1))
        delivered = [None, ON - dt.timedelta(days=rng.randrange(0, 30)), dt.date(2026, 2, 1)][i % 3]
        Pregnancy.objects.create(person=w, registered_on=registered, expected_on=registered + dt.timedelta(days=240),
                                 delivered_on=delivered if delivered is None or delivered >= registered else None)
    return User.objects.get(username="health")


def _plain(user):
    """The rules read plainly: every alive person of the county, one at a time."""
    from fupin.health.models import Certificate, Condition, Contract, Pregnancy, Service
    from fupin.registry.models import Person

    chain = packs().for_region(COUNTY)
    p = lambda name: chain.lookup(name, ON).value  # noqa: E731
    elapsed = ((ON - dt.date(ON.year, 1, 1)).days + 1) / 366
    due = lambda n: -(-int(n * elapsed * 1000) // 1000)  # noqa: E731
    persons = [x for x in Person.objects.select_related("household").order_by("pk") if x.alive]
    live = {}
    for c in Contract.objects.order_by("pk"):
        if c.signed_on <= ON <= c.valid_to and (c.ended_on is None or c.ended_on > ON):
            live.setdefault(c.person_id, c.team)
    done = {}
    for s in Service.objects.all():
        if dt.date(ON.year, 1, 1) <= s.date <= ON:
            done[(s.person_id, s.kind)] = done.get((s.person_id, s.kind), 0) + 1
    born = {x.pk: x.birth_date for x in persons}
    chronic = {c.person_id for c in Condition.objects.all()
               if c.code in disease_lists()["chronic"] and c.resolved_on is None and c.person_id in born
               and not (c.code == "hypertension" and born[c.person_id] > dt.date(ON.year - p("health.fd.hypertension_min_age"), 12, 31))}
    child_born = dt.date(ON.year - p("health.fd.child_max_age") - 1, 12, 31)
    elderly_born = dt.date(ON.year - p("health.fd.elderly_age"), 12, 31)
    rows, managed = [], 0
    for x in persons:
        team = live.get(x.pk, "（未签约）")
        n = lambda k: done.get((x.pk, k), 0)  # noqa: E731
        if x.pk in chronic:
            miss = []
            if n("check") < p("health.fd.checks.chronic"):
                miss.append(("check", p("health.fd.checks.chronic") - n("check")))
            if n("followup") < due(p("health.fd.followups.chronic")):
                miss.append(("followup", p("health.fd.followups.chronic") - n("followup")))
            else:
                managed += 1
            if miss:
                rows.append((x.pk, team, "慢病", miss))
        elif x.birth_date > child_born:
            if n("child_check") < due(p("health.fd.child_checks_per_year")):
                rows.append((x.pk, team, f"0–{p('health.fd.child_max_age')}岁儿童",
                             [("child_check", p("health.fd.child_checks_per_year") - n("child_check"))]))
        elif x.birth_date <= elderly_born and n("assessment") < 1 and ON.month >= p("health.fd.assessment_overdue_from_month"):
            rows.append((x.pk, team, f"{p('health.fd.elderly_age')}岁以上", [("assessment", 1)]))
    alive = set(born)
    for g in Pregnancy.objects.all():
        if g.person_id not in alive or g.registered_on > ON:
            continue
        if g.delivered_on is None:
            kind, need, since, span, gone = "prenatal", p("health.fd.prenatal_checks"), g.registered_on, \
                (g.expected_on - g.registered_on).days, (ON - g.registered_on).days
        elif g.delivered_on <= ON <= g.delivered_on + dt.timedelta(days=p("health.fd.postnatal_days")):
            kind, need, since, span, gone = "postnatal", p("health.fd.postnatal_visits"), g.delivered_on, \
                p("health.fd.postnatal_days"), (ON - g.delivered_on).days
        else:
            continue
        owed = need if span <= 0 or gone >= span else -(-need * gone // span)
        had = Service.objects.filter(person_id=g.person_id, kind=kind, date__gte=since, date__lte=ON).count()
        if had < owed:
            rows.append((g.person_id, live.get(g.person_id, "（未签约）"), "孕产妇", [(kind, need - had)]))
    poor = [x for x in persons if x.household.status in p("health.registered_poor_statuses")]
    villages = {}
    for x in poor:
        v = villages.setdefault(x.household.village_id, [0, 0])
        v[0] += 1
        v[1] += x.pk in live
    teams = {}
    for x in poor:
        if x.pk in live:
            teams[live[x.pk]] = teams.get(live[x.pk], 0) + 1
    lo_age, hi_age = p("health.checkup.min_age"), p("health.checkup.max_age")
    checked = {s.person_id for s in Service.objects.filter(kind="check", date__year=ON.year)}
    due_check = [x for x in poor if ON.year - hi_age <= x.birth_date.year <= ON.year - lo_age]
    statuses = set(p("health.registered_poor_statuses")) | set(p("health.monitored_statuses"))
    followed = {x.pk for x in persons if x.household.status in statuses}
    codes = disease_lists()["special"] | disease_lists()["chronic"]
    last = {}
    for c in Certificate.objects.order_by("valid_to"):
        if c.valid_from <= ON:
            last[(c.person_id, c.disease)] = c.valid_to
    apply, renew = set(), set()
    for c in Condition.objects.all():
        if c.person_id in followed and c.code in codes and c.diagnosed_on <= ON and (c.resolved_on is None or c.resolved_on > ON):
            if (c.person_id, c.code) not in last:
                apply.add((c.person_id, c.code))
            elif last[(c.person_id, c.code)] < ON:
                renew.add((c.person_id, c.code))
    return {"rows": sorted(rows), "chronic": len(chronic), "managed": managed, "poor": len(poor),
            "signed": sum(v[1] for v in villages.values()),
            "villages": sorted((k, v[0], v[1]) for k, v in villages.items()), "teams": sorted(teams.items()),
            "checkups": (len(due_check), len([x for x in due_check if x.pk in checked])),
            "apply": sorted(apply), "renew": sorted(renew)}


def test_every_figure_is_what_the_plain_reading_gives(county):
    plain = _plain(county)
    found = followup.find(county, COUNTY, ON)
    rows = sorted((r["pid"], r["team"], r["grp"], followup.missing(r)) for r in found.rows)
    assert rows == plain["rows"]
    assert found.count() == len(plain["rows"])
    # the seeded county has rows of every group and every kind of service missing
    assert {g for _, _, g, _ in rows} == {"慢病", "0–6岁儿童", "65岁以上", "孕产妇"}
    assert {k for *_, miss in rows for k, _ in miss} == {"check", "followup", "child_check", "assessment", "prenatal",
                                                         "postnatal"}
    f = followup.figures(county, COUNTY, ON)
    assert (f["chronic"], f["managed"]) == (plain["chronic"], plain["managed"])
    assert f["contract_rate_permille"] == plain["signed"] * 1000 // plain["poor"]
    rates = selectors.contract_rates(county, COUNTY, ON)
    names = dict(followup.choices(county, COUNTY, ON)["villages"])
    assert [(r["village"], r["persons"], r["signed"]) for r in rates["villages"]] == [
        (names[k], n, s) for k, n, s in plain["villages"]]
    assert rates["teams"] == plain["teams"]
    c = selectors.checkup_status(county, COUNTY, ON.year)
    assert (c["persons"], c["checked"], c["due_count"], c["due"].count()) == plain["checkups"] + (
        plain["checkups"][0] - plain["checkups"][1],) * 2
    s = selectors.certificate_status(county, COUNTY, ON)
    codes = {v: k for k, v in disease_lists()["names"].items()}
    assert sorted((p.pk, codes[d]) for p, d, _ in s["apply"]) == plain["apply"]
    assert sorted((p.pk, codes[d]) for p, d, _ in s["renew"]) == plain["renew"]


def test_the_page_shows_a_first_page_sorted_and_filtered_in_the_database(county, client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    plain = _plain(county)
    client.force_login(county)
    from collections import Counter

    from fupin.registry.models import Person

    url = f"/health/?region={COUNTY}&date={ON}"
    # the county's whole list is not counted or shown (thousands of rows at a county's size): a village
    # at a time, each read by its own index; the export gives them all
    page = client.get(url + "&sort=village").content.decode()
    assert 'id="choose-village"' in page and "导出筛选结果（Excel）" in page and "第 1–20 条" not in page
    village = dict(Person.objects.values_list("pk", "household__village_id"))
    busiest, n = Counter(village[pid] for pid, *_ in plain["rows"]).most_common(1)[0]
    with CaptureQueriesContext(connection) as q:
        page = client.get(url + f"&village={busiest}&sort=village").content.decode()
    assert f"共 {n} 条，第 1–{min(n, 20)} 条" in page and f"导出筛选结果（Excel，{n} 条）" in page
    assert len(q) < 40, len(q)   # no query per row
    children = [r for r in plain["rows"] if r[2] == "0–6岁儿童"]
    mine = [r for r in children if village[r[0]] == busiest]
    page = client.get(url + f"&village={busiest}&group=0–6岁儿童").content.decode()
    assert f"共 {len(mine)} 条" in page
    xlsx = client.get(url + "&group=0–6岁儿童&format=xlsx")
    sheet = list(load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(values_only=True))
    assert sheet[0] == ("签约团队", "村", "姓名", "类别", "欠缺") and len(sheet) - 1 == len(children)
    assert {r[3] for r in sheet[1:]} == {"0–6岁儿童"}
    # sorted by village in SQL: the first page is the 20 lowest village codes
    wanted = sorted(village[pid] for pid, *_ in plain["rows"])[:20]
    rows = followup.find(county, COUNTY, ON).rows.order_by("vid", "team", "pname", "pid")[:20]
    assert [r["vid"] for r in rows] == wanted
