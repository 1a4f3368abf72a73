"""Overdue problems go up to the level above, one level higher every 15 more days (policies/problems.yaml),
shown to the level above; running the nightly job twice changes nothing."""
import datetime as dt

from fupin.core.models import AuditEvent
from fupin.oversight import services
from fupin.oversight.models import Problem

from .conftest import COUNTY, T1, V1

DEADLINE = dt.date(2026, 10, 1)


def problem(world, title: str, region: str = V1) -> Problem:
    return services.problem_create(actor=world.users["county_officer"], type="recheck", title=title, region_code=region,
                                   household_pk=None, owner_unit="桃源村委会", deadline=DEADLINE,
                                   today=dt.date(2026, 9, 1))


def escalated(p: Problem):
    p.refresh_from_db()
    return p.escalated_to_id, p.escalated_on


def test_overdue_problems_go_up_a_level_at_a_time_and_stop_at_the_province(world):
    a, b = problem(world, "回头看漏登一户"), problem(world, "county one", region=COUNTY)
    assert services.problems_escalate(today=DEADLINE) == 0                 # due today: not overdue yet
    assert services.problems_escalate(today=DEADLINE + dt.timedelta(days=1)) == 2
    assert escalated(a) == (T1, dt.date(2026, 10, 2)) and escalated(b) == ("513400000000", dt.date(2026, 10, 2))
    assert services.problems_escalate(today=DEADLINE + dt.timedelta(days=15)) == 0   # still the first level
    assert services.problems_escalate(today=DEADLINE + dt.timedelta(days=16)) == 2
    assert escalated(a) == (COUNTY, dt.date(2026, 10, 17)) and escalated(b)[0] == "510000000000"
    assert services.problems_escalate(today=DEADLINE + dt.timedelta(days=16)) == 0   # twice: nothing more
    assert services.problems_escalate(today=DEADLINE + dt.timedelta(days=400)) == 1  # b is at the top already
    assert escalated(a)[0] == "510000000000" and escalated(b)[0] == "510000000000"
    summaries = list(AuditEvent.objects.filter(object_type="problem", object_id=str(a.pk), actor=None)
                     .order_by("id").values_list("summary", flat=True))
    assert summaries == ["逾期上提：整改期限 2026-10-01 已过，上提至新市坝镇督办",
                         "逾期上提：整改期限 2026-10-01 已过，上提至甘洛县督办",
                         "逾期上提：整改期限 2026-10-01 已过，上提至四川省督办"]


def test_closed_problems_do_not_go_up_and_the_level_above_sees_its_list(world, login):
    a, b = problem(world, "未整改的问题"), problem(world, "已销号的问题")
    Problem.objects.filter(pk=b.pk).update(state="verified")
    assert services.problems_escalate(today=DEADLINE + dt.timedelta(days=2)) == 1
    assert escalated(b) == (None, None)
    page = login("township_officer").get("/oversight/problems/?escalated=1").content.decode()
    assert "未整改的问题" in page and "已销号的问题" not in page and "已上提至新市坝镇督办" in page
    page = login("county_officer").get("/oversight/problems/?escalated=1").content.decode()
    assert "未整改的问题" not in page


def test_a_problem_registered_after_16_00_utc_counts_from_the_beijing_date(world, monkeypatch):
    """The default deadline counts from today in Beijing (settings.TIME_ZONE), not the server's UTC date."""
    from django.utils import timezone

    monkeypatch.setattr(timezone, "now", lambda: dt.datetime(2026, 12, 2, 17, 30, tzinfo=dt.timezone.utc))
    p = services.problem_create(actor=world.users["county_officer"], type="recheck", title="夜里登记", region_code=V1,
                                household_pk=None, owner_unit="桃源村委会")
    assert p.deadline == dt.date(2027, 1, 2)   # 2026-12-03 in Beijing + 30 days (policies/problems.yaml)
