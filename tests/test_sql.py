"""Precompiled statements (core.sql, ADR 0022): rows written and read exactly as the ORM writes and
reads them, on both databases; the settle path's statements counted."""
from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from fupin.core import audit, sql
from fupin.core import services as core_services
from fupin.core.models import AuditAction, AuditEvent, User
from fupin.funds.models import Transaction
from fupin.health import services
from fupin.health.models import Claim
from fupin.registry.models import Person
from fupin.registry.selectors import person_by_id_number

from .test_health import BILL_1, BILL_2, acc, shili  # noqa: F401  (fixture)


def _fields(obj, names):
    return {n: getattr(obj, n) for n in names}


def test_a_row_inserted_and_read_back_equals_the_orms(shili):  # noqa: F811
    hospital, patient, window, fund = shili
    event = audit.record(window, AuditAction.CREATE, object_type="claim", object_id=7, household_id=patient.household_id,
                         summary="结算", detail={"金额": [1, 2], "ok": True})
    stored = AuditEvent.objects.get(pk=event.pk)
    names = ["at", "actor_id", "actor_name", "action", "object_type", "object_id", "household_id", "result",
             "summary", "detail", "ip"]
    assert _fields(stored, names) == _fields(event, names)
    assert (stored.object_id, stored.detail, stored.at.tzinfo is not None) == ("7", {"金额": [1, 2], "ok": True}, True)
    assert not event._state.adding
    # read: every field converted as the ORM converts it (dates, booleans, foreign keys)
    person = person_by_id_number(window, patient.id_number)
    orm = Person.objects.select_related("household").get(pk=patient.pk)
    columns = [f.attname for f in Person._meta.concrete_fields]
    assert _fields(person, columns) == _fields(orm, columns)
    assert (person.birth_date, person.household.village_id) == (dt.date(1960, 1, 1), "990101100200")


def test_rows_of_one_insert_get_their_own_keys_in_order(shili):  # noqa: F811
    hospital, patient, window, fund = shili
    rows = sql.insert([Transaction(kind="payment", date=dt.date(2024, 1, d), decision_type="t", decision_id=str(d))
                       for d in (1, 2, 3)])
    assert [Transaction.objects.get(pk=t.pk).decision_id for t in rows] == ["1", "2", "3"]
    assert len({t.pk for t in rows}) == 3


def test_a_token_finds_its_user_with_the_region_and_stops_when_the_account_is_locked(shili):  # noqa: F811
    hospital, patient, window, fund = shili
    raw = core_services.token_create(actor=window, user=window, name="his")
    user = core_services.token_user(raw)
    assert (user.pk, user.region.code, user.region.name) == (window.pk, "990101000000", "示例县")
    User.objects.filter(pk=window.pk).update(is_active=False)
    assert core_services.token_user(raw) is None
    assert core_services.token_user("not-a-token") is None


def test_a_settlement_makes_a_fixed_number_of_statements(shili, django_capture_on_commit_callbacks):  # noqa: F811
    hospital, patient, window, fund = shili
    with django_capture_on_commit_callbacks(execute=True):   # the accounts, made once, are kept from commit
        services.settle(user=window, hospital=hospital, person=patient, number="Q0", bill=BILL_1)
    seen = []

    def wrapper(execute, sql_, params, many, context):
        seen.append(sql_)
        return execute(sql_, params, many, context)

    with connection.execute_wrapper(wrapper):
        claim = services.settle(user=window, hospital=hospital, person=patient, number="Q1", bill=BILL_1)
    statements = [q.split()[0] for q in seen if not q.startswith(("SAVEPOINT", "RELEASE"))]
    # read: balances, figures; write: the patient's lock, then the figures read again and the claim's
    # changes added in one statement (PostgreSQL); SQLite, whose write locks the whole database: the
    # figures read again, the changes added; then the ledger's transaction, lines and balance (one
    # statement on PostgreSQL, four on SQLite), then the claim and its audit row (one, or two)
    if connection.vendor == "postgresql":
        write = ["SELECT", "WITH", "WITH", "WITH"]
    else:
        write = ["SELECT", "INSERT", "INSERT", "INSERT", "UPDATE", "INSERT", "INSERT"]
    assert statements == ["SELECT", "SELECT", *write]
    assert Claim.objects.get(pk=claim.pk).breakdown == claim.breakdown
    # the audit row written in the claim's statement names that claim
    row = AuditEvent.objects.filter(object_type="claim").order_by("-pk").first()
    assert (row.object_id, row.actor_id, row.action) == (str(claim.pk), window.pk, "create")
    assert row.summary.startswith(f"{hospital.name} 结算 {patient.name}：总费用 ")


def test_a_write_whose_figures_moved_since_they_were_read_is_stopped_and_adds_nothing(shili):  # noqa: F811
    """The re-read of the patient's figures and the add of the claim's changes (one statement on
    PostgreSQL): the re-read sees the figures as they were before the add, a claim settled in between
    stops the write, and the stop takes the add back."""
    hospital, patient, window, fund = shili
    claim_json, result, accounts, balances, ytd = services._compute(patient, hospital, BILL_1, settling=True)
    assert ytd == {}
    services.settle(user=window, hospital=hospital, person=patient, number="Q0", bill=BILL_2)   # another window
    between = acc(patient)
    assert between == {k: v for k, v in Claim.objects.get(number="Q0").accumulator_changes.items() if v}
    assert between["basic"] > 0
    with pytest.raises(services._Moved):
        services._write(window, hospital, patient, "Q1", BILL_1, claim_json, result, accounts, balances, ytd)
    assert acc(patient) == between and not Claim.objects.filter(number="Q1").exists()
    # computed again on the figures as they are, the same write goes through and adds exactly its changes
    claim_json, result, accounts, balances, ytd = services._compute(patient, hospital, BILL_1, settling=True)
    assert ytd == between
    claim = services._write(window, hospital, patient, "Q1", BILL_1, claim_json, result, accounts, balances, ytd)
    assert acc(patient) == {k: between.get(k, 0) + claim.accumulator_changes.get(k, 0)
                            for k in between.keys() | claim.accumulator_changes.keys()
                            if between.get(k) or claim.accumulator_changes.get(k)}


def test_one_server_binding_cursor_is_kept_per_connection_and_plans_are_kept(shili):  # noqa: F811
    import pytest
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "postgresql":
        pytest.skip("SQLite binds on the client: core.sql uses Django's own cursor there")
    first = sql._cursor(connection)
    assert sql.fetch_one("SELECT %s::int + 1", [1]) == (2,)
    assert sql.fetch("SELECT x FROM generate_series(1, %s) x", [3]) == [(1,), (2,), (3,)]
    assert sql._cursor(connection) is first and not first.cursor.closed
    with CaptureQueriesContext(connection) as q:   # queries logged: a cursor of its own, counted
        assert sql.fetch_one("SELECT %s::int", [5]) == (5,)
        assert sql._cursor(connection) is not first
    assert [x["sql"] for x in q.captured_queries] == ["SELECT $1::int"]   # bound on the server
    first.cursor.close()   # a closed cursor (as after a reconnect) is replaced
    again = sql._cursor(connection)
    assert again is not first and again.cursor.connection is connection.connection
    assert sql.fetch_one("SHOW plan_cache_mode", []) == ("auto",)   # prepared plans kept (ADR 0022, revised)
