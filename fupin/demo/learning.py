"""Demo learning support (学困生帮扶): a few teachers paired with pupils of poor families at one
school, a home visit each, and two terms of results so the progress ranking has prizes to show."""
from __future__ import annotations

import datetime as dt


def seed(county, *, today: dt.date) -> None:
    from fupin.core.models import User
    from fupin.education import learning
    from fupin.education.models import Enrolment, LearningPair

    if LearningPair.objects.exists():
        return
    aid = User.objects.filter(role="school_aid").order_by("pk").first()
    year = today.year if today.month >= 9 else today.year - 1
    enrolled = Enrolment.objects.filter(semester=f"{year}-autumn", stage="primary", status="enrolled",
                                        person__household__status__in=["registered", "monitored", "returned"]) \
        .select_related("person", "school").order_by("school_id", "person_id")
    first = enrolled.first()
    if aid is None or first is None:
        return
    pupils = [e.person for e in enrolled.filter(school=first.school)[:5]]
    spring, autumn = (300, 330, 350, 280, 310), (340, 320, 345, 330, 300)
    for k, person in enumerate(pupils):
        pair = learning.pair_create(actor=aid, school=first.school, person=person, teacher=f"{'王李张刘陈'[k]}老师",
                                    subject="数学" if k % 2 else "语文", start=dt.date(year, 3, 1))
        learning.record_add(actor=aid, pair=pair, date=dt.date(year, 9, 15), kind="home_visit",
                            content="家访：了解作业完成情况，与家长商定辅导时间")
        learning.result_record(actor=aid, pair=pair, semester=f"{year}-spring", score=str(spring[k]))
        learning.result_record(actor=aid, pair=pair, semester=f"{year}-autumn", score=str(autumn[k]))
