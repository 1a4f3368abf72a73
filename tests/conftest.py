"""A small crafted world: two counties, townships, villages, households and one user per role.

Like healthchecks' alice/bob/charlie: fixed users whose scope every test can reason about.
"""
from __future__ import annotations

import datetime as dt
import os
import re

import django.test
import pytest
from django.utils import timezone

from fupin.core import idcard
from fupin.core.models import Region, User
from fupin.core.roles import Role

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop

PASSWORD = "Test#Passw0rd-2026"
COUNTY = "513435000000"
T1, T2 = "513435100000", "513435101000"
V1, V2, V3 = "513435100200", "513435100201", "513435101200"
OTHER_COUNTY, OTHER_VILLAGE = "513436000000", "513436100200"

# Where each role's test user sits.
ROLE_REGION = {
    Role.COUNTY_ADMIN: COUNTY, Role.COUNTY_OFFICER: COUNTY, Role.TOWNSHIP_OFFICER: T1,
    Role.VILLAGE_CADRE: V1, Role.PAIRING_HELPER: V1, Role.SCHOOL_AID: COUNTY, Role.HOSPITAL_WINDOW: COUNTY,
    Role.HEALTH_OFFICER: COUNTY, Role.CIVIL_AFFAIRS: COUNTY, Role.INSPECTOR: COUNTY, Role.AUDITOR: COUNTY,
    Role.MEDICAL_AFFAIRS: COUNTY, Role.SUPPORT_STAFF: COUNTY,
}


# The database-backed fixtures: a test that uses none of them cannot reach the database.
_DATABASE_FIXTURES = {"db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback",
                      "live_server"}


def pytest_collection_modifyitems(config, items):
    """The second database's pass (`dev.py test` sets FUPIN_TEST_DATABASE_PASS=1 for PostgreSQL) runs what
    depends on the database, not all of it again: a test that touches no database gives the same answer twice,
    and a browser test adds only what the browser does (scripts, layout, a phone's width) to pages whose
    server side the test client runs on both databases (tests/test_every_view.py and the rest).
    A test marked `database` runs in that pass although it uses none of the fixtures (it starts its own server);
    one marked `wording` (it reads the words of many pages) does not, like a browser test."""
    if os.environ.get("FUPIN_TEST_DATABASE_PASS") != "1":
        return
    kept, left = [], []
    for item in items:
        reaches = bool(item.get_closest_marker("django_db")) or bool(
            _DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())))
        wanted = item.get_closest_marker("database") or (
            reaches and not item.get_closest_marker("browser") and not item.get_closest_marker("wording"))
        (kept if wanted else left).append(item)
    if left:
        config.hook.pytest_deselected(items=left)
        items[:] = kept


@pytest.fixture
def on_a_covered_day():
    """For a test that starts a workflow today: its deadlines count working days, and a year whose holiday
    arrangement has not been entered is refused, never guessed (fupin/policy/calendar.py). From early
    December the deadlines reach a year not yet entered, so such a test moves the clock to a morning of a
    year that is (9:00 on 2 November 2026, Beijing time; the clock keeps running)."""
    import time_machine
    from zoneinfo import ZoneInfo

    with time_machine.travel(dt.datetime(2026, 11, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=True):
        yield


@pytest.fixture
def later_years_of_plain_weeks(tmp_path):
    """For a browser test that starts workflows now: a browser keeps the real clock, so the server's cannot be
    moved (on_a_covered_day) without its session cookie arriving already expired. Instead the two years after
    the last one entered are given as test years of plain weeks (weekends off, no holidays), beside copies of
    the entered ones. Test data only: the product itself never guesses a year."""
    import shutil

    from fupin.policy import calendar

    entered = sorted(calendar.CAL_DIR.glob("cn-*.yaml"))
    for path in entered:
        shutil.copy(path, tmp_path / path.name)
    last = max(int(p.stem[3:]) for p in entered)
    for year in (last + 1, last + 2):
        (tmp_path / f"cn-{year}.yaml").write_text(f"year: {year}\nsource: 测试用：只按周末计算（非国务院安排）\n"
                                                 "holidays: []\nworkdays: []\n", encoding="utf-8")
    real = calendar.CAL_DIR
    calendar.CAL_DIR = tmp_path
    calendar._year.cache_clear()
    try:
        yield
    finally:
        calendar.CAL_DIR = real
        calendar._year.cache_clear()


def shows_word(html: str, word: str) -> bool:
    """`word` (a household number such as "H1") as a word of its own in a page: a random CSRF token
    in the page may contain it."""
    return re.search(rf"(?<![A-Za-z0-9_-]){re.escape(word)}(?![A-Za-z0-9_-])", html) is not None


def pid(birth: str, seq: int, prefix: str = "513435") -> str:
    return idcard.make_id(prefix, dt.date.fromisoformat(birth), seq)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache: a database rebuilt per test reuses ids, so a result kept
    under one test's ids must not answer another's."""
    from django.core.cache import cache

    from fupin.funds.services import reference_accounts_forget

    cache.clear()
    reference_accounts_forget()   # and no ledger account kept from another test's database


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(db):
    rows = [("510000000000", "四川省", 1, None), ("513400000000", "凉山州", 2, "510000000000"),
            (COUNTY, "甘洛县", 3, "513400000000"), (OTHER_COUNTY, "美姑县", 3, "513400000000"),
            (T1, "新市坝镇", 4, COUNTY), (T2, "田坝镇", 4, COUNTY), ("513436100000", "巴普镇", 4, OTHER_COUNTY),
            (V1, "桃源村", 5, T1), (V2, "红星村", 5, T1), (V3, "团结村", 5, T2), (OTHER_VILLAGE, "依果村", 5, "513436100000")]
    for code, name, level, parent in rows:
        Region.objects.create(code=code, name=name, level=level, parent_id=parent)
    users = {}
    for role, region in ROLE_REGION.items():
        u = User(username=role.value, role=role, region_id=region, password_changed_at=timezone.now())
        u.set_password(PASSWORD)
        u.save()
        users[role.value] = u
    from fupin.registry.models import Household, Person

    def household(number, village, members):
        h = Household.objects.create(number=number, village_id=village, attribute="general", main_cause="illness",
                                     status="registered", bank_account="6217000011112222333")
        for name, birth, seq, relation in members:
            p = Person(household=h, name=name, id_number=pid(birth, seq), birth_date=dt.date.fromisoformat(birth),
                       sex="M" if seq % 2 else "F", relation=relation, labour="ordinary")
            p.save()
        return h

    w = type("World", (), {})()
    w.users = users
    w.h1 = household("H1", V1, [("张三", "1970-05-01", 11, "head"), ("李四", "1972-03-02", 22, "spouse"),
                                ("张小", "2012-09-09", 31, "child")])
    w.h2 = household("H2", V3, [("王五", "1965-01-15", 51, "head")])
    w.h3 = household("H3", OTHER_VILLAGE, [("马六", "1980-08-08", 61, "head")])
    w.h4 = household("H4", V2, [("赵七", "1990-02-02", 71, "head")])
    return w


def totp_code(user, *, fresh: bool = True) -> str:
    """The code the user's authenticator shows now (django_otp.oath.totp from the device's key).

    A device accepts each time step once; a test that signs the same user in twice within one
    step gets the next step's code (the device's tolerance of one step accepts it)."""
    import time

    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.get(user=user, confirmed=True)
    now_t = int((time.time() - device.t0) // device.step)
    base = now_t + device.drift
    t = max(base, device.last_t + 1) if fresh else base
    if t > base + device.tolerance:  # signed in three times within 30 s: start the step over
        TOTPDevice.objects.filter(pk=device.pk).update(last_t=base - 1)
        t = base
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, drift=t - now_t):06d}"


def totp_device(user):
    """The user's confirmed authenticator (made as the setup page would, with a random key)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
        user=user, name="验证器", confirmed=True)


def pass_second_factor(client, user):
    """Enter a real TOTP code on the real verify page, as the user would after the password."""
    from fupin.core.roles import needs_second_factor

    if not needs_second_factor(user.role):
        return
    totp_device(user)
    r = client.post("/account/otp/", {"code": totp_code(user)})
    assert r.status_code == 302, r.content.decode()[:2000]


class SecondFactorClient(django.test.Client):
    """Django's test client whose force_login also passes the second factor through the real
    page, so tests about other things sign in as they always did."""

    def force_login(self, user, backend=None):
        super().force_login(user, backend)
        pass_second_factor(self, user)


@pytest.fixture
def client():
    return SecondFactorClient()


@pytest.fixture
def login(client, world):
    def _login(role: str):
        client.force_login(world.users[role])
        return client
    return _login
