"""The student aid procedure: the pack's steps in order, each by the tier it names, a refusal
with its reason, the notice at the school for the pack's days, the decision after it, and the
payment list; in-kind aid with its value."""
import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from fupin.core.errors import AccessDenied, FupinError, InvalidInput
from fupin.core.models import AuditEvent, AuditResult
from fupin.education import aid
from fupin.education.models import AidApplication, AidState, School
from fupin.registry.models import Person

from .conftest import V1

D = dt.date


@pytest.fixture
def school(world):
    return School.objects.create(code="S1", name="新市坝镇中学", region_id=V1)


def test_the_procedure_runs_the_packs_steps_by_their_tiers(world, school):
    u = world.users
    a = aid.aid_apply(actor=u["school_aid"], person=Person.objects.get(name="张小"), school=school, year=2026,
                      item="家庭经济困难学生生活补助", amount=62500)
    aid.aid_review(actor=u["school_aid"], application=a, approved=True, note="班级评议通过")
    aid.aid_review(actor=u["school_aid"], application=a, approved=True)
    with pytest.raises(AccessDenied) as exc:      # the third step is the township's
        aid.aid_review(actor=u["county_officer"], application=a, approved=True)
    assert exc.value.message == "“乡镇（中心学校）审核”由乡镇工作人员办理"
    assert AuditEvent.objects.filter(actor=u["county_officer"], result=AuditResult.DENIED).count() == 1
    aid.aid_review(actor=u["township_officer"], application=a, approved=True)
    with pytest.raises(AccessDenied):
        aid.aid_review(actor=u["school_aid"], application=a, approved=True)
    aid.aid_review(actor=u["county_officer"], application=a, approved=True, on=D(2026, 9, 10))
    a.refresh_from_db()
    assert (a.state, a.notice_from, a.notice_until) == ("notice", D(2026, 9, 10), D(2026, 9, 15))
    assert list(a.reviews.values_list("step", "approved", "reviewer__username")) == [
        ("class", True, "school_aid"), ("school", True, "school_aid"), ("township", True, "township_officer"),
        ("county", True, "county_officer")]
    with pytest.raises(FupinError) as exc:
        aid.aid_decide(actor=u["county_officer"], application=a, on=D(2026, 9, 15))
    assert exc.value.message == "公示期至 2026-09-15，期满后（2026-09-16 起）才能决定"
    aid.aid_decide(actor=u["county_officer"], application=a, on=D(2026, 9, 16))
    assert AidApplication.objects.values_list("state", "decided_on").get() == ("approved", D(2026, 9, 16))


def test_a_refusal_needs_its_reason_and_ends_the_application(world, school):
    u = world.users
    a = aid.aid_apply(actor=u["school_aid"], person=Person.objects.get(name="张小"), school=school, year=2026,
                      item="冬衣", amount=30000, in_kind="棉衣一套")
    with pytest.raises(InvalidInput) as exc:
        aid.aid_review(actor=u["school_aid"], application=a, approved=False)
    assert exc.value.errors == {"意见": "不通过须写明原因"}
    aid.aid_review(actor=u["school_aid"], application=a, approved=False, note="家庭已不困难")
    with pytest.raises(FupinError) as exc:
        aid.aid_review(actor=u["school_aid"], application=a, approved=True)
    assert exc.value.message == "该申请未通过，不在审核中"
    with pytest.raises(FupinError):
        aid.aid_apply(actor=u["school_aid"], person=Person.objects.get(name="张小"), school=school, year=2026,
                      item="冬衣", amount=30000)


def test_screens_notice_and_payment_list(world, school, login):
    u = world.users
    a = aid.aid_apply(actor=u["school_aid"], person=Person.objects.get(name="张小"), school=school, year=2026,
                      item="营养餐", amount=80000, in_kind="午餐")
    for who in ("school_aid", "school_aid", "township_officer", "county_officer"):
        aid.aid_review(actor=u[who], application=a, approved=True, on=D(2026, 9, 1))
    aid.aid_decide(actor=u["county_officer"], application=a, on=D(2026, 9, 7))
    c = login("county_officer")
    body = c.get(f"/education/aid/notice/?school={school.pk}&year=2026").content.decode()
    assert "新市坝镇中学 2026 学年学生资助公示" in body and "张小" in body and "营养餐（午餐）" in body
    assert Person.objects.get(name="张小").id_number not in body
    rows = list(load_workbook(io.BytesIO(c.get(f"/education/aid/payments.xlsx?school={school.pk}&year=2026").content))
                .active.values)
    assert rows[1][2:] == ("张小", Person.objects.get(name="张小").id_number, "H1", "营养餐", "午餐", "800.00", "2026-09-07")
    page = c.get(f"/education/aid/{a.pk}/").content.decode()
    assert "县教育局审核" in page and "已批准" in page
