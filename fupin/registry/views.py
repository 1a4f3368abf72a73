"""Registry screens: parse input, call one service or selector, render."""
from __future__ import annotations


from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from fupin.core import access
from fupin.core.errors import FupinError, InvalidInput, NotFound
from fupin.core.roles import Cap
from fupin.core.views import fupin_view

from . import selectors, services
from .choices import Attribute, Cause, EventKind, Status
from .forms import (EntryForm, GuaranteeForm, HouseholdForm, IncomeForm, MergeForm, PersonEventForm,
                    PersonForm, SplitForm)


def _form_errors(form, exc: InvalidInput) -> None:
    for label, message in exc.errors.items():
        form.add_error(None, f"{label}：{message}")


# Other rooms add reminders to the home page: functions(user) -> list of (text, link).
HOME_REMINDERS: list = []


@fupin_view
def region_page(request, code):
    region, ancestors, children, by_status = selectors.region_overview(request.user, code)
    statuses = [(v, l, by_status.get(v, 0)) for v, l in Status.choices]
    reminders = [r for provide in HOME_REMINDERS for r in provide(request.user)] \
        if code == request.user.region_id else []
    return render(request, "registry/region.html", {
        "region": region, "ancestors": [a for a in ancestors if access.in_scope(request.user, a.code)],
        "children": children, "statuses": statuses, "total": sum(by_status.values()), "reminders": reminders})


def _search_query(request) -> selectors.SearchQuery:
    g = request.POST if request.method == "POST" else request.GET
    try:
        page = int(g.get("page", "1"))
    except ValueError:
        page = 1
    return selectors.SearchQuery(q=g.get("q", "")[:40], region=g.get("region", "").strip(),
                                 status=g.get("status", ""), attribute=g.get("attribute", ""),
                                 cause=g.get("cause", ""), page=page, from_url=request.method != "POST",
                                 typing=request.headers.get("X-Typing") == "1")


@fupin_view
def household_search(request):
    result = selectors.search_households(request.user, _search_query(request))
    context = {"result": result, "statuses": Status.choices, "attributes": Attribute.choices,
               "causes": Cause.choices}
    template = "registry/partials/results.html" if request.headers.get("X-Partial") else "registry/search.html"
    return render(request, template, context)


# Other rooms add sections to the household page without registry importing them:
# each entry is (template name, function(user, household) -> context dict).
HOUSEHOLD_SECTIONS: list = []


@fupin_view
def household_page(request, pk):
    detail = selectors.household_detail(request.user, pk)
    sections = [(template, provide(request.user, detail.household)) for template, provide in HOUSEHOLD_SECTIONS]
    return render(request, "registry/household.html", {"d": detail, "h": detail.household, "sections": sections})


def _villages(user):
    return access.regions_for(user).filter(level=5)


@fupin_view
def household_new(request):
    access.require(request.user, Cap.WRITE)
    form = HouseholdForm(request.POST or None, villages=_villages(request.user))
    if request.method == "POST" and form.is_valid():
        try:
            access.access_village_for_write(request.user, form.cleaned_data["village"].code)
            h = services.household_create(actor=request.user, data=form.cleaned_data)
        except InvalidInput as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, f"已新增户 {h.number}，请登记户主和成员")
            return redirect(f"/households/{h.pk}/persons/new/")
    return render(request, "registry/form.html", {"form": form, "title": "新增户"})


@fupin_view
def household_edit(request, pk):
    h = access.access_household(request.user, pk, Cap.WRITE)
    form = HouseholdForm(request.POST or None, instance=h, villages=_villages(request.user), editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            access.access_village_for_write(request.user, form.cleaned_data["village"].code)
            services.household_update(actor=request.user, household=h, data=form.cleaned_data)
        except InvalidInput as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, "已保存")
            return redirect(f"/households/{h.pk}/")
    return render(request, "registry/form.html", {"form": form, "title": f"修改户 {h.number}", "h": h})


@fupin_view
def person_new(request, pk):
    h = access.access_household(request.user, pk, Cap.WRITE)
    form = PersonForm(request.POST or None, prefix="p")
    entry = EntryForm(request.POST or None, prefix="e")
    if request.method == "POST" and form.is_valid() and entry.is_valid():
        try:
            services.person_register(actor=request.user, household=h, data=form.cleaned_data,
                                     kind=entry.cleaned_data["kind"], date=entry.cleaned_data["date"],
                                     note=entry.cleaned_data["note"])
        except InvalidInput as exc:
            _form_errors(form, exc)
        except FupinError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "已登记")
            return redirect(f"/households/{h.pk}/")
    return render(request, "registry/form.html", {"form": form, "extra": entry, "title": f"户 {h.number} 登记成员", "h": h})


@fupin_view
def person_edit(request, pk):
    p = access.access_person(request.user, pk, Cap.WRITE)
    form = PersonForm(request.POST or None, instance=p)
    if request.method == "POST" and form.is_valid():
        try:
            services.person_update(actor=request.user, person=p, data=form.cleaned_data)
        except InvalidInput as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, "已保存")
            return redirect(f"/households/{p.household_id}/")
    return render(request, "registry/form.html", {"form": form, "title": f"修改人员 {p.name}"})


@fupin_view
def person_event(request, pk):
    p = access.access_person(request.user, pk, Cap.WRITE)
    form = PersonEventForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        c = form.cleaned_data
        back = p.household_id
        try:
            if c["kind"] == EventKind.DEATH:
                services.person_death(actor=request.user, person=p, date=c["date"], note=c["note"])
            elif c["kind"] in (EventKind.MARRIAGE_OUT, EventKind.MOVE_OUT):
                services.person_leave(actor=request.user, person=p, kind=c["kind"], date=c["date"], note=c["note"])
            else:
                target = access.households_for(request.user, Cap.WRITE).filter(number=c["to_number"].strip()).first()
                if target is None:
                    raise NotFound(f"找不到户编号“{c['to_number']}”，或该户不在您的管辖范围内")
                services.person_move(actor=request.user, person=p, to_household=target, date=c["date"],
                                     relation=c["relation"], kind=c["kind"], note=c["note"])
                back = target.pk
        except FupinError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "变动已登记")
            return redirect(f"/households/{back}/")
    return render(request, "registry/form.html", {"form": form, "title": f"{p.name} 成员变动"})


@fupin_view
def household_split(request, pk):
    h = access.access_household(request.user, pk, Cap.WRITE)
    members = list(h.persons.filter(alive=True))
    form = SplitForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        chosen = [m for m in members if str(m.pk) in request.POST.getlist("persons")]
        head = next((m for m in members if str(m.pk) == request.POST.get("head")), None)
        try:
            new = services.household_split(actor=request.user, household=h, persons=chosen,
                                           number=form.cleaned_data["number"].strip(), head=head,
                                           date=form.cleaned_data["date"], note=form.cleaned_data["note"])
        except FupinError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"已分出新户 {new.number}")
            return redirect(f"/households/{new.pk}/")
    return render(request, "registry/split.html", {"form": form, "h": h, "members": members})


@fupin_view
def household_merge(request, pk):
    h = access.access_household(request.user, pk, Cap.WRITE)
    form = MergeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        target = access.households_for(request.user, Cap.WRITE).filter(
            number=form.cleaned_data["target_number"].strip()).first()
        try:
            if target is None:
                raise NotFound("找不到要并入的户，或该户不在您的管辖范围内")
            services.household_merge(actor=request.user, source=h, target=target,
                                     date=form.cleaned_data["date"], note=form.cleaned_data["note"])
        except FupinError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"已并入户 {target.number}")
            return redirect(f"/households/{target.pk}/")
    return render(request, "registry/form.html", {"form": form, "title": f"户 {h.number} 并户"})


@fupin_view
def income_new(request, pk):
    h = access.access_household(request.user, pk, Cap.WRITE)
    form = IncomeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        c = form.cleaned_data
        try:
            services.income_record(actor=request.user, household=h, year=c["year"], wages=c["wages"],
                                   business=c["business"], transfers=c["transfers"],
                                   property_income=c["property_income"], costs=c["costs"],
                                   recorded_on=c["recorded_on"], source=c["source"])
        except FupinError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "收入已登记")
            return redirect(f"/households/{h.pk}/")
    return render(request, "registry/form.html", {"form": form, "title": f"户 {h.number} 登记收入"})


@fupin_view
def guarantee_new(request, pk):
    h = access.access_household(request.user, pk, Cap.WRITE)
    form = GuaranteeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.guarantee_record(actor=request.user, household=h, **form.cleaned_data)
        except FupinError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "核查已登记")
            return redirect(f"/households/{h.pk}/")
    return render(request, "registry/form.html", {"form": form, "title": f"户 {h.number} 两不愁三保障核查"})


@require_POST
@fupin_view
def reveal(request, pk, what):
    # /households/<pk>/reveal/bank/ and /persons/<pk>/reveal/id/; any other pairing is no page (a
    # household's id must never be read as a person's)
    if (request.path.startswith("/households/"), what) not in ((True, "bank"), (True, "phone"), (False, "id")):
        raise NotFound(f"不能显示“{what[:20]}”：户可显示银行账号（bank）或联系电话（phone），人员可显示身份证号（id）")
    if what in ("bank", "phone"):
        return JsonResponse({"value": selectors.reveal(request.user, access.access_household(request.user, pk), what)})
    p = access.access_person(request.user, pk)
    return JsonResponse({"value": selectors.reveal(request.user, p, "id")})
