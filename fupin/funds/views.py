from django.shortcuts import render

from fupin.core import access
from fupin.core.errors import AccessDenied
from fupin.core.roles import Cap
from fupin.core.views import fupin_view

from . import selectors


@fupin_view
def funds_page(request):
    if not (access.may(request.user, Cap.READ_AUDIT) or access.may(request.user, Cap.EXPORT)):
        raise AccessDenied("您的角色不能查看资金账簿")
    scope = access.scope_range(request.user)
    return render(request, "funds/page.html", {
        "progress": selectors.disbursement_progress(scope), "deceased": selectors.payments_to_deceased(scope),
        "unknown": selectors.payments_to_unknown_persons(scope), "duplicates": selectors.duplicate_payments(scope)})
