import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from fupin.core import idcard
from fupin.core.errors import FupinError, InvalidInput
from fupin.core.models import AuditEvent
from fupin.registry import selectors, services
from fupin.registry.models import Household, MembershipEvent, Person

from .conftest import V1, pid

D = dt.date(2026, 3, 1)


@pytest.fixture
def officer(world):
    return world.users["county_officer"]


def person_data(birth="1990-01-01", seq=81, **kw):
    return {"name": "新人", "id_number": pid(birth, seq), "relation": "child", "labour": "ordinary", **kw}


def test_register_derives_birth_and_sex_from_id(world, officer):
    p = services.person_register(actor=officer, household=world.h1, data=person_data(), kind="birth",
                                 date=dt.date(1990, 1, 1))
    assert (p.birth_date, p.sex, p.household_id, p.id_reversed) == (
        dt.date(1990, 1, 1), "M", world.h1.pk, p.id_number[::-1])
    ev = MembershipEvent.objects.get(person=p)
    assert (ev.kind, ev.date, ev.to_household_id) == ("birth", dt.date(1990, 1, 1), world.h1.pk)


def test_register_refuses_a_person_already_in_another_household(world, officer):
    existing = world.h2.persons.get()
    with pytest.raises(InvalidInput) as exc:
        services.person_register(actor=officer, household=world.h1,
                                 data=person_data(**{"id_number": existing.id_number.lower()}))
    assert exc.value.errors == {"证件号码": f"{existing.id_number[:6]}**********{existing.id_number[-2:]} 已登记在户 H2，请办理户间迁移而不是重复登记"}
    assert world.h1.persons.count() == 3
    stranger = world.h3.persons.get()  # registered in the other county: its household is not named
    with pytest.raises(InvalidInput) as exc:
        services.person_register(actor=officer, household=world.h1, data=person_data(**{"id_number": stranger.id_number}))
    assert exc.value.errors == {"证件号码": f"{idcard.mask(stranger.id_number)} 已登记在其他辖区的户中，请办理户间迁移而不是重复登记"}


def test_register_refuses_sex_that_contradicts_the_id(world, officer):
    with pytest.raises(InvalidInput) as exc:
        services.person_register(actor=officer, household=world.h1, data=person_data(sex="F"))
    assert exc.value.errors == {"性别": "与身份证号第17位（男）不一致"}
    assert Person.objects.count() == 6


def test_second_living_head_is_refused_by_the_database(world, officer):
    with pytest.raises(InvalidInput) as exc:
        services.person_register(actor=officer, household=world.h1, data=person_data(relation="head"))
    assert exc.value.errors == {"与户主关系": "该户已有户主，一户只能有一位在世户主"}
    with pytest.raises(IntegrityError), transaction.atomic():
        Person.objects.filter(household=world.h1, relation="spouse").update(relation="head")


def test_a_person_is_in_exactly_one_household(world, officer):
    child = world.h1.persons.get(relation="child")
    services.person_move(actor=officer, person=child, to_household=world.h4, date=D, relation="child")
    assert list(Person.objects.filter(id_number=child.id_number).values_list("household__number", flat=True)) == ["H4"]
    ev = MembershipEvent.objects.get(person=child)
    assert (ev.kind, ev.from_household_id, ev.to_household_id) == ("move", world.h1.pk, world.h4.pk)
    # the move appears on both households' timelines
    assert AuditEvent.objects.filter(action="membership", household_id=world.h1.pk).count() == 1
    assert AuditEvent.objects.filter(action="membership", household_id=world.h4.pk).count() == 1


def test_death_keeps_the_record_and_reduces_the_household_size(world, officer):
    spouse = world.h1.persons.get(relation="spouse")
    services.person_death(actor=officer, person=spouse, date=D)
    detail = selectors.household_detail(officer, world.h1.pk)
    assert (detail.size, [p.name for p in detail.former_members]) == (2, ["李四"])
    with pytest.raises(FupinError) as exc:
        services.person_death(actor=officer, person=spouse, date=D)
    assert exc.value.message == "李四 已于 2026-03-01 登记死亡"


def test_future_event_is_refused_and_nothing_is_saved(world, officer):
    spouse = world.h1.persons.get(relation="spouse")
    with pytest.raises(InvalidInput):
        services.person_death(actor=officer, person=spouse, date=dt.date.today() + dt.timedelta(days=3))
    spouse.refresh_from_db()
    assert (spouse.alive, spouse.death_date, MembershipEvent.objects.count()) == (True, None, 0)


def test_head_cannot_leave_while_others_remain(world, officer):
    head = world.h1.persons.get(relation="head")
    with pytest.raises(FupinError) as exc:
        services.person_leave(actor=officer, person=head, kind="marriage_out", date=D)
    assert exc.value.message == "户主迁出前，请先为该户另设户主"
    child = world.h1.persons.get(relation="child")
    services.person_leave(actor=officer, person=child, kind="marriage_out", date=D)
    child.refresh_from_db()
    assert child.household_id is None


def test_split_and_merge(world, officer):
    spouse = world.h1.persons.get(relation="spouse")
    child = world.h1.persons.get(relation="child")
    new = services.household_split(actor=officer, household=world.h1, persons=[spouse, child], number="H1-2",
                                   head=spouse, date=D)
    assert (new.village_id, new.status, new.bank_account) == (V1, "registered", "")
    assert sorted(new.persons.values_list("name", "relation")) == [("张小", "other"), ("李四", "head")]
    assert world.h1.persons.count() == 1
    services.household_merge(actor=officer, source=new, target=world.h1, date=D)
    assert sorted(world.h1.persons.values_list("name", "relation")) == [
        ("张三", "head"), ("张小", "other"), ("李四", "other")]
    assert new.persons.count() == 0


def test_split_refuses_taking_everyone(world, officer):
    members = list(world.h1.persons.all())
    with pytest.raises(InvalidInput):
        services.household_split(actor=officer, household=world.h1, persons=members, number="X",
                                 head=members[0], date=D)
    assert Household.objects.filter(number="X").count() == 0


def test_income_per_capita_in_fen(world, officer):
    income = services.income_record(actor=officer, household=world.h1, year=2025, wages=1_000_000,
                                    business=500_000, transfers=200_000, property_income=1, costs=300_000,
                                    recorded_on=dt.date(2026, 1, 10), source="入户调查")
    assert (income.total, income.net, income.size, income.per_capita) == (1_700_001, 1_400_001, 3, 466_667)
    again = services.income_record(actor=officer, household=world.h1, year=2025, wages=0, business=0,
                                   transfers=0, property_income=0, costs=0, recorded_on=dt.date(2026, 1, 10))
    assert (again.pk, again.net) == (income.pk, 0)


def test_household_update_records_the_changed_fields(world, officer):
    services.household_update(actor=officer, household=world.h1, data={"phone": "13912345678", "status": "exited"})
    h = Household.objects.get(pk=world.h1.pk)
    assert (h.phone, h.status) == ("13912345678", "registered")  # status only changes through a workflow
    ev = AuditEvent.objects.get(action="update")
    assert ev.detail == {"fields": {"phone": ["", "13912345678"]}}
    assert ev.summary == "修改户 H1：联系电话"


def test_audit_events_cannot_be_changed_or_deleted(world, officer):
    services.household_update(actor=officer, household=world.h1, data={"phone": "13912345678"})
    ev = AuditEvent.objects.get(action="update")
    ev.summary = "篡改"
    with pytest.raises(PermissionError):
        ev.save()
    with pytest.raises(PermissionError):
        ev.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=ev.pk).update(summary="x")
    assert AuditEvent.objects.get(pk=ev.pk).summary == "修改户 H1：联系电话"


def test_search_by_name_id_tail_full_id_and_filters(world, officer):
    def numbers(**kw):
        return [h.number for h in selectors.search_households(officer, selectors.SearchQuery(**kw)).rows]

    head = world.h1.persons.get(relation="head")
    assert numbers(q="张") == ["H1"]
    assert numbers(q="王五") == ["H2"]
    assert numbers(q=head.id_number[-4:]) == ["H1"]
    assert numbers(q=head.id_number.lower()) == ["H1"]
    assert numbers(q="马六") == []  # other county
    assert numbers(region="513435100000") == ["H1", "H4"]
    assert numbers(status="exited") == []
    assert numbers(cause="illness", attribute="general") == ["H1", "H2", "H4"]
    assert numbers(q="H2") == ["H2"]


def test_search_counts_only_up_to_the_limit_and_says_more(world, officer, monkeypatch, login):
    monkeypatch.setattr(selectors, "COUNT_LIMIT", 2)
    r = selectors.search_households(officer, selectors.SearchQuery(cause="illness"))
    assert (r.total, r.more, r.pages, [h.number for h in r.rows]) == (2, True, 1, ["H1", "H2", "H4"])
    r = selectors.search_households(officer, selectors.SearchQuery(q="王五"))
    assert (r.total, r.more, [h.number for h in r.rows]) == (1, False, ["H2"])
    page = login("county_officer").get("/households/", {"cause": "illness"}).content.decode()
    assert '超过 <b id="total">2</b> 户，只列出前 2 户，请加查询条件缩小范围' in page


def test_search_text_that_is_a_household_number_and_id_digits_finds_both(world, officer):
    head = world.h1.persons.get(relation="head")
    Household.objects.create(number=head.id_number[-6:], village_id=V1, attribute="general",
                             main_cause="illness", status="registered")
    r = selectors.search_households(officer, selectors.SearchQuery(q=head.id_number[-6:]))
    assert (r.total, r.more, [h.number for h in r.rows]) == (2, False, [head.id_number[-6:], "H1"])
    r = selectors.search_households(officer, selectors.SearchQuery(q=head.id_number[-5:]))
    assert (r.total, [h.number for h in r.rows]) == (1, ["H1"])


def test_region_picker_drops_a_level_when_the_list_would_be_long_and_keeps_the_chosen(world, login, monkeypatch):
    import re

    from fupin.core.templatetags import fupin as tags

    c = login("county_officer")

    def options(**q):
        page = c.get("/households/", q).content.decode()
        select = re.search(r'<select name="region"[^>]*>(.*?)</select>', page).group(1)
        return re.findall(r'<option value="(\d*)"( selected)?>', select)

    assert [v for v, _ in options()] == ["", "513435000000", "513435100000", "513435100200", "513435100201",
                                        "513435101000", "513435101200"]
    monkeypatch.setattr(tags, "PICKER_MAX_OPTIONS", 5)
    assert options() == [("", ""), ("513435000000", ""), ("513435100000", ""), ("513435101000", "")]
    assert options(region=V1) == [("", ""), ("513435000000", ""), ("513435100000", ""), (V1, " selected"),
                                  ("513435101000", "")]
