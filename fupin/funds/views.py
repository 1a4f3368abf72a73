
from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from django.utils import timezone

from fupin.core import access
from fupin.core.errors import AccessDenied, InvalidInput
from fupin.core.money import fen_to_yuan_str
from fupin.core.roles import Cap
from fupin.core.views import form_date, form_int, fupin_view
from fupin.policy.errors import PolicyError
from fupin.policy.money import parse_yuan

from . import selectors, services
from .models import Account, AccountKind, FundingSource, Programme


@fupin_view
def funds_page(request):
    user = request.user
    if not (access.may(user, Cap.READ_AUDIT) or access.may(user, Cap.EXPORT) or access.may(user, Cap.BUDGET_MANAGE)):
        raise AccessDenied("您的角色不能查看资金账簿")
    scope = access.scope_range(user)
    budgets = Account.objects.filter(kind=AccountKind.BUDGET, region_id__gte=scope[0], region_id__lte=scope[1])
    return render(request, "funds/page.html", {
        "progress": selectors.disbursement_progress(scope), "deceased": selectors.payments_to_deceased(scope),
        "unknown": selectors.payments_to_unknown_persons(scope), "duplicates": selectors.duplicate_payments(scope),
        "can_budget": access.may(user, Cap.BUDGET_MANAGE), "can_reverse": access.may(user, Cap.REVERSE_PAYMENT),
        "budgets": budgets, "sources": FundingSource.choices, "programmes": Programme.choices, "year": timezone.localdate().year,
        "today": timezone.localdate().isoformat()})


def _yuan(data, key: str, label: str) -> int:
    try:
        return parse_yuan(data.get(key, ""), label)   # the one money parser
    except PolicyError as exc:
        raise InvalidInput({label: getattr(exc, "problem", exc.message)}) from None


@require_POST
@fupin_view
def funds_action(request, action: str):
    """Budget lines, allocations and payment reversals. Each service checks its own capability
    and region before its transaction opens; a refusal shows as an error page (403/404)."""
    user, post = request.user, request.POST
    if action == "budget":
        b = services.budget_create(actor=user, code=post.get("code", "").strip(), name=post.get("name", "").strip(),
                                   source=post.get("source", ""), programme=post.get("programme", "").strip(),
                                   year=form_int(post, "year", "年度"), region=post.get("region") or user.region_id)
        messages.success(request, f"已建立预算科目“{b.name}”")
    elif action == "allocate":
        budget = services.access_budget(user, post.get("budget", ""))
        amount = _yuan(post, "amount", "拨入金额")
        services.budget_allocate(actor=user, budget=budget, amount=amount, decision_id=post.get("decision_id", ""),
                                 date=form_date(post, "date", "拨款日期", timezone.localdate()), memo=post.get("memo", "")[:200])
        messages.success(request, f"已向“{budget.name}”拨入 {fen_to_yuan_str(amount)} 元")
    elif action == "reverse":
        txn = services.access_transaction(user, post.get("transaction", ""))
        rev = services.transaction_reverse(actor=user, txn=txn, reason=post.get("reason", ""), date=timezone.localdate())
        messages.success(request, f"已冲销凭证 {txn.pk}（冲销凭证 {rev.pk}）")
    else:
        raise InvalidInput({"操作": f"“{action}”不是资金账簿的操作"})
    return redirect("/funds/")
