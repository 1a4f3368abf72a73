"""Searching by ID digits is a way to read a masked ID (issue: trust first, the review's F1): every
such search is audited, and a user whose searches found nobody too often within the window is
refused any further search by ID, found or not, on every path (the household search on the page
and the API, the hospital window, the forms that name a person by ID number)."""
import re

import pytest

from fupin.core import idcard
from fupin.core import services as core_services
from fupin.core.errors import AccessDenied, NotFound
from fupin.core.models import AuditEvent
from fupin.health import services as health
from fupin.registry.selectors import SearchQuery, find_person, search_households

from .conftest import pid

REFUSED = ("您在 60 分钟内按身份证号查找而未找到的已有 3 次。为防止逐个试号推算他人身份证号，暂停按身份证号查找，"
           "请稍后再试；按姓名或户编号查询不受影响")


@pytest.fixture
def three_misses(settings):
    settings.ID_SEARCH_MAX_MISSES = 3
    settings.ID_SEARCH_WINDOW_MINUTES = 60


def guesses(n: int) -> list[str]:
    """Valid ID numbers of the county that belong to no one (as a guesser builds them)."""
    return [pid("1970-05-01", 200 + k) for k in range(n)]


def rows(user):
    return list(AuditEvent.objects.filter(actor=user, object_type="id_search").order_by("pk")
                .values_list("action", "result", "summary"))


def test_the_school_office_guessing_full_ids_is_audited_and_stopped(world, three_misses, login):
    school = world.users["school_aid"]
    head = world.h1.persons.get(relation="head")
    c = login("school_aid")
    for number in guesses(3):
        r = c.post("/households/", {"q": number}, HTTP_X_PARTIAL="1")
        assert '<b id="total">0</b>' in r.content.decode()
    # the fourth search would find the head: refused all the same, so a hit cannot be told from a miss
    r = c.post("/households/", {"q": head.id_number}, HTTP_X_PARTIAL="1")
    assert r.status_code == 403 and REFUSED in r.content.decode() and "H1" not in r.content.decode()
    # by name, nothing changes
    assert "H1" in c.post("/households/", {"q": "张三"}, HTTP_X_PARTIAL="1").content.decode()
    masked = [idcard.mask(n) for n in guesses(3)]
    assert rows(school) == [("search", "failed", f"按身份证号 {m} 查找：未找到") for m in masked] + [
        ("denied", "denied", "按身份证号查找：未找到的次数过多，暂停")]


def test_a_hit_is_audited_too_and_the_window_lookup_counts_its_misses(world, three_misses):
    window = world.users["hospital_window"]
    head = world.h1.persons.get(relation="head")
    result = search_households(window, SearchQuery(q=head.id_number))
    assert [h.number for h in result.rows] == ["H1"]
    assert health.find_patient(window, head.id_number).pk == head.pk   # a hit at the window: the claim records it
    for number in guesses(3):
        with pytest.raises(NotFound, match=f"^{re.escape(f'身份证号 {idcard.mask(number)} 不在您管辖范围的户籍库中')}$"):
            health.find_patient(window, number)
    with pytest.raises(AccessDenied, match=f"^{re.escape(REFUSED)}$"):
        health.find_patient(window, head.id_number)
    # a wrong number says what is wrong with it: no lookup, not counted
    with pytest.raises(Exception, match="校验码"):
        health.find_patient(window, head.id_number[:-1] + ("0" if head.id_number[-1] != "0" else "1"))
    assert [r[:2] for r in rows(window)] == [("search", "ok"), *[("search", "failed")] * 3, ("denied", "denied")]
    assert rows(window)[0][2] == f"按身份证号 {idcard.mask(head.id_number)} 查找：找到 1 条"


def test_a_village_cadre_lengthening_a_tail_is_audited_and_stopped(world, three_misses):
    village = world.users["village_cadre"]
    head = world.h1.persons.get(relation="head")
    tail = head.id_number[-4:]
    assert search_households(village, SearchQuery(q=tail)).total == 1
    wrong = [d for d in "0123456789" if d != head.id_number[-5]][:3]
    for d in wrong:
        assert search_households(village, SearchQuery(q=d + tail)).total == 0
    with pytest.raises(AccessDenied):
        search_households(village, SearchQuery(q=head.id_number[-5:]))
    assert [r[2] for r in rows(village)] == ["按身份证号后 4 位查找：找到 1 条", *["按身份证号后 5 位查找：未找到"] * 3,
                                            "按身份证号查找：未找到的次数过多，暂停"]
    # typed (the live search as the cadre types): no ID search at all, so nothing counted or refused
    typed = search_households(village, SearchQuery(q=head.id_number[-5:], typing=True))
    assert (typed.total, typed.errors) == (0, ["输入完整的身份证号（或其后几位）后，请按回车或点“查询”"])


def test_the_api_and_the_forms_that_name_a_person_by_id_share_the_limit(world, three_misses, client):
    county = world.users["county_officer"]
    token = core_services.token_create(actor=county, user=county, name="t")
    for number in guesses(2):
        r = client.post("/api/v1/households/search", {"q": number}, content_type="application/json",
                        HTTP_AUTHORIZATION=f"Bearer {token}")
        assert r.json()["total"] == 0
    with pytest.raises(NotFound):
        find_person(county, guesses(3)[2])    # e.g. enrolling a trainee, registering a college student
    r = client.post("/api/v1/households/search", {"q": world.h1.persons.get(relation="head").id_number},
                    content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert (r.status_code, r.json()["detail"]) == (403, REFUSED)


def test_the_window_passes_again_once_the_misses_are_older_than_the_window(world, three_misses, settings):
    window = world.users["hospital_window"]
    for number in guesses(3):
        with pytest.raises(NotFound):
            health.find_patient(window, number)
    settings.ID_SEARCH_WINDOW_MINUTES = 0   # the same misses, now all before the window
    head = world.h1.persons.get(relation="head")
    assert health.find_patient(window, head.id_number).pk == head.pk
