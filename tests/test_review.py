"""An attacker's and a newcomer's review of what landed on 2 December: each test is one defect
found (IDOR, a refusal without its audit row, a peer administrator acted upon), fixed alongside."""
import pytest

from fupin.core.models import AuditEvent, AuditResult
from fupin.pairing.models import Helper, Pair, Unit

from .conftest import COUNTY, OTHER_COUNTY


def test_pairing_page_offers_and_accepts_only_helpers_of_ones_own_county(world, login):
    Helper.objects.create(unit=Unit.objects.create(name="甘洛县教育局", region_id=COUNTY), name="周老师", kind="staff")
    theirs = Helper.objects.create(unit=Unit.objects.create(name="美姑县财政局", region_id=OTHER_COUNTY),
                                   name="吉克阿依", kind="staff")
    c = login("township_officer")
    body = c.get("/pairing/pairs/").content.decode()
    assert "甘洛县教育局 周老师（一般干部）" in body      # a county department pairs in its townships
    assert "吉克阿依" not in body and "美姑县财政局" not in body
    r = c.post("/pairing/pairs/", {"helper": str(theirs.pk), "household": str(world.h4.pk)}, follow=True)
    assert Pair.objects.count() == 0
    assert "找不到该帮扶责任人，或其单位不在您的管辖范围内；请从列表中选择" in r.content.decode()
