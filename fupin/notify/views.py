"""我的提醒: the user's reminders of due and overdue work, and where else they should go."""
from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone

from fupin.core.errors import FupinError
from fupin.core.idcard import mask_phone
from fupin.core.views import fupin_view

from . import selectors, services
from .models import Subscription

DAYS_SHOWN = 30


@fupin_view
def my_notices(request):
    user = request.user
    if request.method == "POST":
        kept = Subscription.objects.filter(user=user).values_list("phone", flat=True).first() or ""
        try:  # an empty phone box keeps the number already registered (it is shown masked only)
            services.subscription_save(actor=user, email=request.POST.get("email", "")[:200],
                                       phone=request.POST.get("phone", "")[:30].strip() or kept,
                                       by_email=request.POST.get("by_email") == "1",
                                       by_sms=request.POST.get("by_sms") == "1")
            messages.success(request, "提醒方式已保存")
        except FupinError as exc:
            messages.error(request, exc.message)
        return redirect("/notify/")
    since = timezone.localdate() - dt.timedelta(days=DAYS_SHOWN)
    sub = Subscription.objects.filter(user=user).first()
    return render(request, "notify/mine.html", {
        "notices": list(selectors.in_app(user).filter(day__gte=since)[:200]), "sub": sub,
        "phone_masked": mask_phone(sub.phone) if sub and sub.phone else "", "days": DAYS_SHOWN,
        "sent": list(selectors.notices_for(user).exclude(channel="app").filter(day__gte=since)[:50])})
