"""Demo charity: this year's 扶贫日 campaign with units' pledges and donations (cash to the
county fund and to a village, goods), whose money reaches students through 圆梦助学."""
from __future__ import annotations

import datetime as dt


def seed(county, *, year: int) -> None:
    from fupin.charity import services
    from fupin.charity.models import Campaign
    from fupin.core.models import User
    from fupin.registry.models import Person

    if Campaign.objects.exists():
        return
    officer = User.objects.filter(role="county_officer", region_id=county.regions[2][0]).first() \
        or User.objects.filter(role="county_officer").first()
    c = services.campaign_create(actor=officer, year=year)
    # the opening step of each programme (下发通知、发布公告): applications from July to the campaign day
    for programme in ("yuanmeng", "sunshine_class"):
        services.call_publish(actor=officer, programme=programme, year=year, published=dt.date(year, 7, 1),
                              apply_until=c.day)
    village = next(code for code, _, lv, _ in county.regions if lv == 5)
    for name, kind, pledged, given in (("甘洛县教育局", "unit", 2_000_000, 1_500_000), ("甘洛县农商银行", "enterprise", 5_000_000, 5_000_000),
                                       ("甘洛县电力公司", "enterprise", 3_000_000, 1_000_000)):
        donor = services.donor_get_or_create(actor=officer, name=name, kind=kind)
        services.pledge_record(actor=officer, campaign=c, donor=donor, amount=pledged)
        services.donation_record(actor=officer, donor=donor, date=c.day, kind="cash", amount=given, campaign=c)
    public = services.donor_get_or_create(actor=officer, name="爱心人士王先生", kind="public")
    services.donation_record(actor=officer, donor=public, date=c.day, kind="cash", amount=50_000, designation=village,
                             campaign=c)
    services.donation_record(actor=officer, donor=public, date=c.day, kind="in_kind", amount=300_000, items="棉被100床",
                             designation=village, campaign=c)
    # this year's college admissions as the county records them in the college-student database
    from fupin.education.models import CollegeStudent

    freshmen = Person.objects.filter(alive=True, schooling__in=["higher_voc", "bachelor"],
                                     household__status__in=["registered", "monitored", "returned"],
                                     birth_date__year__gte=year - 19).exclude(college_records__entry_year=year).order_by("id")[:6]
    CollegeStudent.objects.bulk_create([CollegeStudent(person=p, college="西昌学院", level=p.schooling, entry_year=year)
                                        for p in freshmen], ignore_conflicts=True)
    rule = services.programmes(village, dt.date(year, 9, 1))["yuanmeng"]
    students = list(Person.objects.filter(services.eligible_q(rule, year)).order_by("id")[:4])
    for k, student in enumerate(students):
        g = services.grant_apply(actor=officer, person_id=student.pk, programme="yuanmeng", year=year, campaign=c,
                                 on=c.day)
        if k == 3:
            continue   # one application still waiting for review
        g = services.grant_review(actor=officer, grant=g, approve=True, on=c.day)   # then the notice runs its days
        if k == 2:
            continue   # one still in its public notice
        services.grant_decide(actor=officer, grant=g, on=g.notice_until + dt.timedelta(days=1))
        services.grant_pay(actor=officer, grant=g, date=g.notice_until + dt.timedelta(days=2))
        if k == 0:
            services.grant_visit(actor=officer, grant=g, note="已入学报到，学习生活正常")
    _sponsored_class(officer, c, year)


def _sponsored_class(officer, campaign, year: int) -> None:
    """A 慈善阳光班 named after one sponsor: its donation earmarked to the class, two students paid."""
    from fupin.charity import services
    from fupin.education.models import Enrolment

    first = Enrolment.objects.filter(semester=f"{year}-autumn", stage="senior", grade=1, status="enrolled",
                                     person__alive=True,
                                     person__household__status__in=["registered", "monitored", "returned"]) \
        .select_related("school").order_by("school_id", "person_id").first()
    if first is None:
        return
    sponsor = services.donor_get_or_create(actor=officer, name="四川某药业有限公司", kind="enterprise")
    cls = services.sunshine_class_create(actor=officer, school=first.school, year=year, sponsor=sponsor)
    services.donation_record(actor=officer, donor=sponsor, date=campaign.day, kind="cash", amount=2_400_000,
                             sunshine_class=cls)   # the sponsor's own account, not the campaign's
    students = Enrolment.objects.filter(school=first.school, semester=f"{year}-autumn", stage="senior", grade=1,
                                        status="enrolled", person__alive=True,
                                        person__household__status__in=["registered", "monitored", "returned"]) \
        .order_by("person_id").values_list("person_id", flat=True)[:2]
    for pid in students:
        g = services.grant_apply(actor=officer, person_id=pid, programme="sunshine_class", year=year, sunshine_class=cls,
                                 on=campaign.day)
        g = services.grant_review(actor=officer, grant=g, approve=True, on=campaign.day)
        g = services.grant_decide(actor=officer, grant=g, on=g.notice_until + dt.timedelta(days=1))
        services.grant_pay(actor=officer, grant=g, date=g.notice_until + dt.timedelta(days=2))
