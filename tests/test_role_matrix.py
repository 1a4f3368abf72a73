"""Every role × every registry action, as a user does it (web or API): allowed or refused, and a
refused action changes nothing and leaves exactly one DENIED audit row (money actions: see
test_money_access.py). The expectations are written out, not derived from the role table, so a
change to the table that opens an action shows up here."""
import pytest

from fupin.core import services as core_services
from fupin.core.models import AuditAction, AuditEvent, AuditResult
from fupin.registry.models import Household, Person

from .conftest import COUNTY, ROLE_REGION

ROLES = [r.value for r in ROLE_REGION]
ALL_READERS = {"county_admin", "county_officer", "township_officer", "village_cadre", "pairing_helper",
               "school_aid", "hospital_window", "health_officer", "civil_affairs", "inspector"}
WRITERS = {"county_admin", "county_officer", "township_officer", "village_cadre"}
ALLOWED = {
    "view_household": ALL_READERS,
    "edit_household_api": WRITERS,
    "reveal_id": {"county_admin", "county_officer", "township_officer", "village_cadre"},
    "reveal_bank": {"county_admin", "county_officer", "civil_affairs"},
    "export_region": {"county_admin", "county_officer", "health_officer", "civil_affairs"},
    "read_audit": {"auditor"},
    "print_region_cards": {"county_admin", "county_officer", "health_officer", "civil_affairs"},
    # labour room and pairing administration
    "labour_county_counts": {"county_admin", "county_officer", "school_aid", "hospital_window", "health_officer",
                             "civil_affairs", "inspector"},
    "pairing_admin": {"county_officer"},
}
# Roles whose region does not reach the object answer "not found" rather than "forbidden".
NOT_IN_REGION = {"export_region": {"township_officer"}, "print_region_cards": {"township_officer"},
                 "labour_county_counts": {"township_officer", "village_cadre", "pairing_helper"}}


def _snapshot():
    return (list(Household.objects.order_by("pk").values_list("pk", "phone", "status", "bank_account")),
            list(Person.objects.order_by("pk").values_list("pk", "name", "id_number")))


def _do(action, role, world, client):
    h1 = world.h1
    if action == "edit_household_api":
        user = world.users[role]
        token = core_services.token_create(actor=user, user=user, name="t")
        return client.patch(f"/api/v1/households/{h1.pk}", {"phone": "13900000000"},
                            content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}").status_code
    client.force_login(world.users[role])
    if action == "view_household":
        return client.get(f"/households/{h1.pk}/").status_code
    if action == "reveal_id":
        return client.post(f"/persons/{h1.persons.get(relation='head').pk}/reveal/id/").status_code
    if action == "reveal_bank":
        return client.post(f"/households/{h1.pk}/reveal/bank/").status_code
    if action == "export_region":
        return client.get(f"/exchange/export.xlsx?region={COUNTY}").status_code
    if action == "read_audit":
        return client.get("/audit/").status_code
    if action == "print_region_cards":
        return client.get(f"/pairing/cards/{COUNTY}.pdf").status_code
    if action == "labour_county_counts":
        return client.get(f"/labour/?region={COUNTY}").status_code
    if action == "pairing_admin":
        return client.get("/pairing/admin/").status_code
    raise AssertionError(action)


@pytest.mark.parametrize("action", sorted(ALLOWED))
def test_every_role_for_every_registry_action(action, world, client):
    for role in ROLES:
        before = _snapshot()
        denied_before = AuditEvent.objects.filter(result=AuditResult.DENIED).count()
        status = _do(action, role, world, client)
        client.logout()
        if role in ALLOWED[action]:
            assert status == 200, (action, role, status)
            continue
        expected = 404 if role in NOT_IN_REGION.get(action, ()) else 403
        assert status == expected, (action, role, status)
        assert _snapshot() == before, (action, role)
        denied = AuditEvent.objects.filter(result=AuditResult.DENIED).count() - denied_before
        assert denied == (1 if expected == 403 else 0), (action, role, denied)
        assert not AuditEvent.objects.filter(action__in=[AuditAction.EXPORT, AuditAction.REVEAL],
                                             actor=world.users[role]).exists(), (action, role)
