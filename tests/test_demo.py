"""The demo county: sizes, valid unique IDs, every status, a user per role and level."""
from collections import Counter

from fupin.core import idcard
from fupin.core.roles import Role
from fupin.demo import generator
from fupin.registry.choices import Status


def test_demo_county_shape():
    county = generator.generate(15000, households=5000)
    villages = [r for r in county.regions if r[2] == 5]
    assert len(villages) >= 20
    assert len(county.households) == 5000
    assert county.person_count >= 15000
    ids = [p.id_number for h in county.households for p in h.persons]
    assert len(ids) == len(set(ids))
    assert all(idcard.check(i).valid for i in ids)
    statuses = Counter(h.status for h in county.households)
    assert set(statuses) == set(Status.values)
    assert all(sum(p.relation == "head" for p in h.persons) == 1 for h in county.households)
    roles = {u[2] for u in generator.demo_users(county)}
    assert roles == set(Role.values)
    assert {u[3][-6:] for u in generator.demo_users(county) if u[2] == "inspector"} == {"000000"}


def test_generator_is_deterministic():
    a = generator.generate(500, seed=7)
    b = generator.generate(500, seed=7)
    assert [p.id_number for h in a.households for p in h.persons] == [p.id_number for h in b.households for p in h.persons]


def test_seed_database_and_demo_login(db, client):
    county = generator.generate(300, min_villages=4)
    generator.seed_database(county)
    generator.seed_demo_users(county)
    from django.conf import settings
    settings.DEMO = True
    r = client.post("/login/", {"username": "county", "password": generator.DEMO_PASSWORD})
    assert r.status_code == 302
    from fupin.registry.models import Person
    assert Person.objects.count() == county.person_count


def test_demo_county_ships_department_lists_with_findings_for_its_villages(db):
    import datetime as dt

    from fupin.monitoring.models import Batch, Warning
    county = generator.generate(600, min_villages=4)
    generator.seed_database(county)
    generator.seed_demo_users(county)
    n = generator.seed_demo_department_lists(county, as_of=dt.date(2026, 11, 1))
    assert Batch.objects.count() == 11
    assert n == Warning.objects.count() > 0
    assert set(Warning.objects.values_list("village_id", flat=True)) <= {c for c, _, level, _ in county.regions if level == 5}
    assert generator.seed_demo_department_lists(county) == n  # idempotent: a second demo start adds nothing
