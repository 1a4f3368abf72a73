from __future__ import annotations

from django.contrib import messages
from django.core.files.storage import default_storage
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from fupin.core import access, audit
from fupin.core.errors import FupinError, InvalidInput, NotFound
from fupin.core.views import form_int, fupin_view

from . import selectors, services
from .models import Notice, State


def _evidence(request) -> list[str]:
    names = []
    for f in request.FILES.getlist("evidence"):
        if f.size > 20 * 1024 * 1024:
            raise FupinError(f"佐证文件“{f.name}”超过 20 MB")
        names.append(default_storage.save(f"evidence/{f.name}", f))
    return names


@require_POST
@fupin_view
def start(request, household_pk):
    household = access.access_household(request.user, household_pk)
    try:
        services.require_may_start(request.user)  # before any evidence file is written to disk
        services.start(actor=request.user, household=household, kind=request.POST.get("kind", ""),
                       comment=request.POST.get("comment", ""), channel=request.POST.get("channel", ""),
                       monitored_type=request.POST.get("monitored_type", ""), evidence=_evidence(request))
        messages.success(request, "流程已发起")
    except FupinError as exc:
        messages.error(request, exc.message)
    return redirect(f"/households/{household.pk}/")


@require_POST
@fupin_view
def act(request, pk):
    inst = services.instances_for(request.user).filter(pk=pk).first()
    if inst is None:
        raise NotFound("找不到该流程，或不在您的管辖范围内")
    try:
        if request.POST.get("decision") == "resubmit":
            services.resubmit(actor=request.user, instance_id=pk, comment=request.POST.get("comment", ""))
        else:
            verifiers = [v.strip() for v in request.POST.get("verifiers", "").replace("，", ",").split(",") if v.strip()]
            services.act(actor=request.user, instance_id=pk, step_key=request.POST.get("step_key", ""),
                         decision=request.POST.get("decision", ""), comment=request.POST.get("comment", ""),
                         # evidence is written to disk only for someone who may decide this step
                         verifiers=verifiers, evidence=_evidence(request) if services.may_act(request.user, inst) else [],
                         override_reason=request.POST.get("override_reason", ""))
        messages.success(request, "已办理")
    except FupinError as exc:
        messages.error(request, exc.message)
    from fupin.core.account_views import safe_next

    return redirect(safe_next(request, f"/households/{inst.household_id}/"))   # never off-site


@fupin_view
def todo(request):
    return render(request, "workflows/todo.html", {"t": services.todo(request.user)})


@fupin_view
def summary(request, code):
    return render(request, "workflows/summary.html", {"s": selectors.summary(request.user, code)})


@fupin_view
def notice_page(request, pk):
    n = services.access_notice(request.user, pk)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "answer":
                services.objection_answer(actor=request.user, objection_id=form_int(request.POST, "objection", "异议编号"),
                                          answer=request.POST.get("answer", ""))
            else:
                services.objection_lodge(notice=n, by_name=request.POST.get("by_name", ""),
                                         content=request.POST.get("content", ""), via="cadre", actor=request.user)
            messages.success(request, "已登记")
        except (FupinError, ValueError, KeyError) as exc:
            messages.error(request, getattr(exc, "message", "请检查填写的内容"))
        return redirect(f"/workflows/notices/{pk}/")
    return render(request, "workflows/notice.html", {"n": n, "public": False})


@fupin_view
def notice_pdf(request, pk):
    from fupin.printing.pdf import public_notice

    n = services.access_notice(request.user, pk)
    url = request.build_absolute_uri(f"/public/notices/{n.token}/")
    pdf = public_notice(n, url)
    audit.export(request.user, what=f"打印公示 {n.title}", object_type="notice", object_id=n.pk,
                 persons=len(n.content))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="notice-{n.pk}.pdf"'
    return response


def public_notice(request, token):
    """The public, read-only page of a notice (the QR code on the posted sheet points here)."""
    n = Notice.objects.filter(token=token).first()
    if n is None:
        return render(request, "core/error.html", {"message": "找不到该公示"}, status=404)
    ctx = {"n": n, "public": True, "open": services.notice_open(n)}
    if request.method == "POST":
        try:
            services.objection_lodge(notice=n, by_name=request.POST.get("by_name", ""),
                                     content=request.POST.get("content", ""), via="web",
                                     ip=request.META.get("REMOTE_ADDR"))
            return render(request, "workflows/notice.html", ctx | {"thanks": True})
        except FupinError as exc:
            return render(request, "workflows/notice.html", ctx | {"error": exc.message}, status=400)
    return render(request, "workflows/notice.html", ctx)


@require_POST
@fupin_view
def bulk_approve(request):
    """County: approve a reviewed batch at the county step; one announcement lists them all."""
    raw = request.POST.getlist("instances")
    if not all(x.isascii() and x.isdigit() and len(x) <= 18 for x in raw):   # a database id fits 18 digits
        raise InvalidInput({"流程": "所选流程编号无效，请回到列表重新勾选"})
    expected = request.POST.get("step", "")  # the step the officer saw on the list
    done, failed = [], []
    # Each instance in turn: in the user's region, still at the step the user saw, and a step
    # the user's tier may decide; anything else is reported, never approved at another step.
    for inst in services.instances_for(request.user).filter(pk__in=[int(x) for x in raw]).select_related("household"):
        step = inst.current
        if step is None or (expected and step["key"] != expected):
            failed.append(f"{inst.household.number}：已不在该环节（当前：{step['label'] if step else inst.get_state_display()}）")
            continue
        if not services.may_act(request.user, inst):
            failed.append(f"{inst.household.number}：“{step['label']}”不由您的层级办理")
            continue
        try:
            services.act(actor=request.user, instance_id=inst.pk, step_key=step["key"], decision="approve",
                         comment=request.POST.get("comment", "批量审定"))
            done.append(inst.pk)
        except FupinError as exc:
            failed.append(f"{inst.household.number}：{exc.message}")
    missing = len(set(raw)) - len(done) - len(failed)
    if missing:
        failed.append(f"{missing} 个流程找不到，或不在您的管辖范围内")
    request.session["bulk_done"] = done
    if failed:
        messages.error(request, "；".join(failed))
    messages.success(request, f"已审定 {len(done)} 户")
    return redirect("/workflows/announcement/")


@fupin_view
def announcement(request):
    from fupin.printing.pdf import public_notice as render_pdf

    ids = request.session.get("bulk_done") or []
    instances = services.instances_for(request.user).filter(pk__in=ids)
    notices = Notice.objects.filter(instance__in=instances).order_by("instance_id", "-id")
    latest = {}
    for n in notices:
        latest.setdefault(n.instance_id, n)
    if request.GET.get("pdf") and latest:
        combined = Notice(title="县级公告（批量）", start=min(n.start for n in latest.values()),
                          end=max(n.end for n in latest.values()), token="batch",
                          content=[row for n in latest.values() for row in n.content])
        pdf = render_pdf(combined, request.build_absolute_uri("/"))
        audit.export(request.user, what="打印县级公告（批量）", object_type="announcement",
                     object_id=",".join(str(i) for i in latest), persons=len(combined.content))
        return HttpResponse(pdf, content_type="application/pdf")
    return render(request, "workflows/announcement.html", {"notices": list(latest.values())})


@fupin_view
def stage(request, code, kind, step):
    from .models import Kind

    if kind not in Kind.values:
        raise NotFound(f"没有“{kind[:40]}”这种流程；可选：" + "、".join(f"{v}（{label}）" for v, label in Kind.choices))
    if not (step.lstrip("-").isascii() and step.lstrip("-").isdigit()):
        raise NotFound(f"步骤“{step[:40]}”应为步骤序号（整数；已退回的流程为 -1）")
    region = access.access_region(request.user, code)
    lo, hi = region.code_range()
    qs = services.instances_for(request.user).filter(kind=kind, household__village_id__gte=lo, household__village_id__lte=hi)
    qs = qs.filter(state=State.REJECTED) if int(step) < 0 else qs.filter(state=State.IN_PROGRESS, step=int(step))
    return render(request, "workflows/stage.html", {"instances": qs.select_related("household"), "region": region})
