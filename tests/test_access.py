"""Scope and role, tested once per role through the single access module (SPEC §14)."""
import pytest

from fupin.core import access
from fupin.core.errors import AccessDenied, NotFound
from fupin.core.models import AuditEvent
from fupin.core.roles import Cap, Role
from fupin.registry import selectors, services
from fupin.registry.models import Household

# Which of the world's households each role can read: h1 (V1, T1), h4 (V2, T1), h2 (V3, T2), h3 (other county).
READS = {
    Role.COUNTY_ADMIN: {"H1", "H2", "H4"}, Role.COUNTY_OFFICER: {"H1", "H2", "H4"},
    Role.TOWNSHIP_OFFICER: {"H1", "H4"}, Role.VILLAGE_CADRE: {"H1"}, Role.PAIRING_HELPER: {"H1"},
    Role.SCHOOL_AID: {"H1", "H2", "H4"}, Role.HOSPITAL_WINDOW: {"H1", "H2", "H4"},
    Role.HEALTH_OFFICER: {"H1", "H2", "H4"}, Role.CIVIL_AFFAIRS: {"H1", "H2", "H4"},
    Role.INSPECTOR: {"H1", "H2", "H4"}, Role.AUDITOR: None,  # no registry access at all
    Role.MEDICAL_AFFAIRS: None, Role.SUPPORT_STAFF: None,  # hospital staff: no registry access
}
WRITERS = {Role.COUNTY_ADMIN, Role.COUNTY_OFFICER, Role.TOWNSHIP_OFFICER, Role.VILLAGE_CADRE}
REVEAL_ID = {Role.COUNTY_ADMIN, Role.COUNTY_OFFICER, Role.TOWNSHIP_OFFICER, Role.VILLAGE_CADRE}
EXPORTERS = {Role.COUNTY_ADMIN, Role.COUNTY_OFFICER, Role.TOWNSHIP_OFFICER, Role.HEALTH_OFFICER, Role.CIVIL_AFFAIRS}


@pytest.mark.parametrize("role", list(Role))
def test_read_scope_per_role(world, role):
    user = world.users[role.value]
    expected = READS[role]
    if expected is None:
        with pytest.raises(AccessDenied):
            access.households_for(user)
        return
    assert set(access.households_for(user).values_list("number", flat=True)) == expected
    for h in (world.h1, world.h2, world.h3, world.h4):
        if h.number in expected:
            assert access.access_household(user, h.pk).pk == h.pk
        else:
            with pytest.raises(NotFound):
                access.access_household(user, h.pk)


@pytest.mark.parametrize("role", list(Role))
def test_write_per_role_and_refusal_changes_nothing(world, role):
    user = world.users[role.value]
    before = Household.objects.get(pk=world.h1.pk).phone
    if role in WRITERS:
        h = access.access_household(user, world.h1.pk, Cap.WRITE)
        services.household_update(actor=user, household=h, data={"phone": "13800000000"})
        assert Household.objects.get(pk=world.h1.pk).phone == "13800000000"
        assert AuditEvent.objects.filter(actor=user, action="update", household_id=world.h1.pk).count() == 1
    else:
        with pytest.raises(AccessDenied):
            access.access_household(user, world.h1.pk, Cap.WRITE)
        assert Household.objects.get(pk=world.h1.pk).phone == before
        assert AuditEvent.objects.filter(actor=user, action="denied").count() == 1
        assert AuditEvent.objects.filter(action="update").count() == 0


@pytest.mark.parametrize("role", list(Role))
def test_reveal_id_per_role_is_logged(world, role):
    user = world.users[role.value]
    person = world.h1.persons.get(relation="head")
    if role in REVEAL_ID:
        assert selectors.reveal(user, person, "id") == person.id_number
        event = AuditEvent.objects.get(action="reveal")
        assert (event.actor_id, event.object_id, event.household_id) == (user.pk, str(person.pk), world.h1.pk)
    else:
        with pytest.raises(AccessDenied):
            selectors.reveal(user, person, "id")
        assert AuditEvent.objects.filter(action="reveal").count() == 0


@pytest.mark.parametrize("role", list(Role))
def test_export_per_role(world, role):
    from fupin.exchange.households import export_households

    user = world.users[role.value]
    if role in EXPORTERS:
        _, count = export_households(user, user.region_id)
        assert count == {"513435000000": 5, "513435100000": 4}[user.region_id]
        assert AuditEvent.objects.filter(action="export", actor=user).count() == 1
    else:
        with pytest.raises(AccessDenied):
            export_households(user, user.region_id)
        assert AuditEvent.objects.filter(action="export").count() == 0


def test_township_cannot_put_household_into_other_township(world):
    user = world.users["township_officer"]
    with pytest.raises(AccessDenied):
        access.access_village_for_write(user, "513435101200")
    assert access.access_village_for_write(user, "513435100201").code == "513435100201"


def test_region_outside_scope_is_not_found(world):
    with pytest.raises(NotFound):
        access.access_region(world.users["village_cadre"], "513435000000")
