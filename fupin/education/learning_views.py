"""Screens of learning support (学困生帮扶): the pairs (list, filter, sort, Excel), one pair's records
and results, and a school's ranking by progress with its prizes. Views parse, call one service or
selector, render."""
from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone

from fupin.core import access
from fupin.core.errors import FupinError, NotFound
from fupin.core.listing import Column, Filter, listing
from fupin.core.roles import Cap
from fupin.core.views import form_date, form_int, fupin_view
from fupin.exchange.lists import xlsx_response
from fupin.policy import semester as semesters
from fupin.registry.selectors import find_person

from . import learning
from .models import LearningRecordKind, School


def _schools(user):
    lo, hi = access.scope_range(user)
    return School.objects.filter(region_id__gte=lo[:6] + "000000", region_id__lte=hi).order_by("code")


def _school(user, data) -> School:
    school = _schools(user).filter(pk=form_int(data, "school", "学校", lo=1)).first()
    if school is None:
        raise NotFound("找不到该学校，或不在您的管辖范围内")
    return school


@fupin_view
def pairs(request):
    user = request.user
    if request.method == "POST":
        try:
            person = find_person(user, request.POST.get("id_number", ""))
            pair = learning.pair_create(actor=user, school=_school(user, request.POST), person=person,
                                        teacher=request.POST.get("teacher", ""), subject=request.POST.get("subject", ""),
                                        start=form_date(request.POST, "start", "结对日期", timezone.localdate()))
        except FupinError as exc:
            messages.error(request, exc.message)
            return redirect("/education/learning/")
        messages.success(request, f"已结对：{pair.teacher} 帮扶 {pair.person.name}")
        return redirect(f"/education/learning/{pair.pk}/")
    schools = list(_schools(user))
    today = timezone.localdate()
    rows = learning.pairs_for(user).select_related("person__household__village", "school")
    visits: dict[int, int] = {}
    need = None
    columns = [
        Column("school", "学校", lambda p: p.school.name, "school__code"),
        Column("student", "学生", lambda p: p.person.name, "person__name"),
        Column("village", "村", lambda p: p.person.household.village.name, "person__household__village_id"),
        Column("household", "户编号", lambda p: p.person.household.number, "person__household__number"),
        Column("teacher", "帮扶教师", lambda p: p.teacher, "teacher"),
        Column("subject", "帮扶学科", lambda p: p.subject),
        Column("start", "结对日期", lambda p: p.start.isoformat(), "start"),
        Column("visits", "本学期家访（次）", lambda p: visits.get(p.pk, 0)),
        Column("state", "状态", lambda p: "已结束" if p.ended_on else "帮扶中"),
    ]
    filters = [Filter("school", "学校", tuple((str(s.pk), s.name) for s in schools),
                      lambda qs, v: qs.filter(school_id=int(v))),
               Filter("state", "状态", (("open", "帮扶中"), ("ended", "已结束")),
                      lambda qs, v: qs.filter(ended_on__isnull=v == "open"))]
    lst = listing(request, rows, columns, filters=filters, default_sort="school")
    if lst.wants_export:
        visits.update(learning.visits_this_term(list(lst.filtered.values_list("pk", flat=True)), today))
        return xlsx_response(user, lst, what="学困生帮扶结对", object_type="learning_pairs", object_id=user.region_id)
    shown = list(lst.page)
    visits.update(learning.visits_this_term([p.pk for p in shown], today))
    for p in shown:
        p.visits_n = visits.get(p.pk, 0)
    if schools:
        need = learning._p(schools[0].region_id, "education.learning_support.home_visits_per_term", today)
    return render(request, "education/learning.html", {
        "listing": lst, "schools": schools, "need": need, "today": today.isoformat(),
        "semesters": semesters.recent(today)})


@fupin_view
def pair_page(request, pk):
    user = request.user
    pair = learning.access_pair(user, pk)
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "record":
                learning.record_add(actor=user, pair=pair, date=form_date(request.POST, "date", "日期"),
                                    kind=request.POST.get("kind", ""), content=request.POST.get("content", ""))
            elif action == "result":
                learning.result_record(actor=user, pair=pair, semester=request.POST.get("semester", ""),
                                       score=request.POST.get("score", ""))
            elif action == "end":
                learning.pair_end(actor=user, pair=pair, on=form_date(request.POST, "date", "结束日期"),
                                  reason=request.POST.get("reason", ""))
            else:
                raise NotFound("没有这个操作")
        except FupinError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "已登记")
        return redirect(f"/education/learning/{pair.pk}/")
    today = timezone.localdate()
    return render(request, "education/learning_pair.html", {
        "pair": pair, "records": pair.records.order_by("-date", "-id"),
        "results": [(semesters.label(r.semester), r) for r in pair.results.order_by("-semester")],
        "kinds": LearningRecordKind.choices, "semesters": semesters.recent(today), "today": today.isoformat(),
        "may_edit": access.may(user, Cap.EDU_MANAGE)})


@fupin_view
def ranking(request):
    """A school's learning-support students ranked by progress this term, with the prizes."""
    user = request.user
    school = _school(user, request.GET)
    code = learning.semester_code(request.GET.get("semester", ""))
    rows = learning.ranking(user, school, code)
    title = f"{school.name}{semesters.label(code)}学困生进步排名"
    columns = [Column("rank", "本学期名次", lambda r: r["rank"]), Column("name", "学生", lambda r: r["person"].name),
               Column("teacher", "帮扶教师", lambda r: r["teacher"]), Column("score", "期末总分", lambda r: str(r["score"])),
               Column("previous_rank", "上学期名次", lambda r: r["previous_rank"] or ""),
               Column("gained", "提高位次", lambda r: "" if r["gained"] is None else r["gained"]),
               Column("prize", "进步奖", lambda r: r["prize"])]
    lst = listing(request, rows, columns, page_size=200)
    if lst.wants_export:
        return xlsx_response(user, lst, what=title, object_type="learning_ranking", object_id=school.pk)
    return render(request, "education/learning_ranking.html", {"listing": lst, "title": title, "school": school,
                                                               "semester": code})
