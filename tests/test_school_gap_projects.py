"""Issue #22 gap: a school's condition gap (an item of its 改薄 plan) is linked to a project of the
project library, and the school page shows the project's state and latest progress."""
from __future__ import annotations

import datetime as dt

import pytest

from fupin.core.errors import AccessDenied, FupinError, NotFound
from fupin.core.models import AuditEvent

from .conftest import COUNTY, OTHER_VILLAGE, V1

D = dt.date


@pytest.fixture
def gap_world(world):
    from fupin.education.models import School
    from fupin.plans.models import Item, Plan
    from fupin.projects.models import Progress, Project

    officer = world.users["county_officer"]
    school = School.objects.create(code="S1", name="桃源小学", region_id=V1)
    plan = Plan.objects.create(region_id=V1, school=school, year=2024, title="桃源小学2024年改薄计划", created_by=officer)
    gap = Item.objects.create(plan=plan, number=1, target="为12个班配备多媒体", quantity=12, measure="个班",
                              owner_unit="县教育局", due=D(2024, 12, 31))
    prose = Item.objects.create(plan=plan, number=2, target="开展一次家长会", owner_unit="学校", due=D(2024, 6, 1))

    def project(number, name, region):
        return Project.objects.create(number=number, name=name, region_id=region, year=2024, category="infrastructure",
                                      content=name, implementer="县教育局", start=D(2024, 3, 1), end=D(2024, 11, 30),
                                      lifecycle={}, token=f"t{number}", created_by=officer)
    media = project("XM-2024-01", "桃源小学多媒体教室建设", V1)
    far = project("XM-2024-99", "邻县小学改造", OTHER_VILLAGE)
    for day, pct in ((D(2024, 5, 1), 30), (D(2024, 7, 1), 60)):
        Progress.objects.create(project=media, date=day, percent=pct, note="安装中", actor=officer)
    world.school, world.gap, world.prose, world.media, world.far = school, gap, prose, media, far
    return world


def test_a_gap_is_linked_once_to_a_project_in_the_users_region_and_audited(gap_world):
    from fupin.schools import selectors, services
    from fupin.schools.models import GapProject

    w = gap_world
    aid = w.users["school_aid"]
    link = services.gap_project_link(actor=aid, code="S1", item_id=w.gap.pk, project_id=w.media.pk)
    assert AuditEvent.objects.get(object_type="school_gap_project").summary == \
        "桃源小学：缺口“为12个班配备多媒体”关联项目“桃源小学多媒体教室建设”（XM-2024-01）"
    with pytest.raises(FupinError) as exc:
        services.gap_project_link(actor=aid, code="S1", item_id=w.gap.pk, project_id=w.media.pk)
    assert exc.value.message == "“为12个班配备多媒体”已关联项目“桃源小学多媒体教室建设”"
    with pytest.raises(NotFound):   # a project of another county is not found
        services.gap_project_link(actor=aid, code="S1", item_id=w.gap.pk, project_id=w.far.pk)
    with pytest.raises(NotFound):   # an item without a quantity is not a gap
        services.gap_project_link(actor=aid, code="S1", item_id=w.prose.pk, project_id=w.media.pk)
    with pytest.raises(AccessDenied):
        services.gap_project_link(actor=w.users["health_officer"], code="S1", item_id=w.gap.pk, project_id=w.media.pk)
    assert AuditEvent.objects.filter(result="denied", actor__role="health_officer").count() == 1
    assert GapProject.objects.count() == 1

    d = selectors.school_detail(aid, w.school, today=D(2024, 8, 1))
    assert [(g.target, [(lk.project.number, lk.project.get_state_display(), lk.percent, lk.progress_on)
                        for lk in g.projects]) for g in d["gaps"]] == [
        ("为12个班配备多媒体", [("XM-2024-01", "已申报", 60, D(2024, 7, 1))])]
    assert selectors.gap_project_choices(aid, w.school) == [(w.media.pk, "XM-2024-01", "桃源小学多媒体教室建设")]

    services.gap_project_unlink(actor=aid, code="S1", link_id=link.pk)
    assert GapProject.objects.count() == 0
    assert AuditEvent.objects.filter(object_type="school_gap_project").count() == 2


def test_the_school_page_links_a_gap_and_shows_the_projects_progress(gap_world, login):
    w = gap_world
    client = login("school_aid")
    page = client.get("/schools/S1/").content.decode()
    assert "未关联项目" in page and '<option value="%d">XM-2024-01 桃源小学多媒体教室建设</option>' % w.media.pk in page
    assert "邻县小学改造" not in page
    r = client.post("/schools/S1/", {"action": "gap_project", "item": w.gap.pk, "project": w.media.pk}, follow=True)
    page = r.content.decode()
    assert "已关联项目" in page
    assert f'<a href="/projects/{w.media.pk}/">桃源小学多媒体教室建设</a>：已申报，进度 60%（2024-07-01）' in page
    page = login("health_officer").get("/schools/S1/").content.decode()
    assert "进度 60%（2024-07-01）" in page and 'name="project"' not in page
