"""A slow read is kept until anything is written (core.memo): the same user and arguments get the
kept result; any audited write, another user or other arguments compute afresh."""
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fupin.core import audit, memo
from fupin.core.models import AuditAction


def test_kept_until_the_next_write_and_never_shared_between_users(world):
    calls = []

    def compute():
        calls.append(1)
        return len(calls)

    officer, helper = world.users["county_officer"], world.users["pairing_helper"]
    assert memo.remembered(officer, "x", ("513435000000",), compute) == 1
    assert memo.remembered(officer, "x", ("513435000000",), compute) == 1      # kept
    assert memo.remembered(officer, "x", ("513435100000",), compute) == 2      # other arguments
    assert memo.remembered(helper, "x", ("513435000000",), compute) == 3       # another user
    audit.record(officer, AuditAction.UPDATE, object_type="household", object_id=1, summary="修改")
    assert memo.remembered(officer, "x", ("513435000000",), compute) == 4      # a write anywhere: afresh


def test_paging_the_health_page_does_not_recompute_its_lists(world, login):
    c = login("health_officer")
    with CaptureQueriesContext(connection) as first:
        assert c.get("/health/").status_code == 200
    with CaptureQueriesContext(connection) as again:
        assert c.get("/health/?page=1").status_code == 200
    assert len(again) < len(first) - 5, (len(first), len(again))
