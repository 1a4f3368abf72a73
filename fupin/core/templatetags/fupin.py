from django import template
from django.db.models import Q

from fupin.core import idcard
from fupin.core.money import fen_to_yuan_str

register = template.Library()


@register.filter
def mask_id(value):
    return idcard.mask(value)


@register.filter
def mask_bank(value):
    return idcard.mask_bank(value)


@register.filter
def mask_phone(value):
    return idcard.mask_phone(value)


@register.filter
def birth_year(birth):
    """What a screen shows of a birth date: '1970年', never the day, nor the age (idcard.mask)."""
    year = idcard.birth_year(birth)
    return f"{year}年" if year else ""


@register.filter
def yuan(fen):
    """Integer fen → '1,234.56'."""
    return "" if fen is None else fen_to_yuan_str(fen, grouping=True)


@register.filter
def semester(value):
    """'2026-autumn' → '2026年秋季' (fupin.policy.semester, the one parser and label)."""
    from fupin.policy import semester as semesters

    return semesters.label(value)


@register.filter
def percent(permille):
    """A rate kept in ‰ (integer) as a percentage a reader knows: 1000 → '100%', 5 → '0.5%'."""
    if permille is None or permille == "":
        return ""
    from decimal import Decimal

    value = (Decimal(permille) / 10).normalize()
    return f"{value:f}%"


@register.filter
def entitlement(code):
    """'education.nutrition_meals' → '营养膳食补助' (fupin.policy.labels, the one mapping)."""
    from fupin.policy import labels

    return labels.entitlement(code)


@register.filter
def period(value):
    """A payment period as read: '2026年秋季', '2026年'."""
    from fupin.policy import labels

    return labels.period(value)


PICKER_MAX_OPTIONS = 1000


@register.simple_tag(takes_context=True)
def region_picker(context, name="region", value="", deepest=4, label="区划", blank=""):
    """A <select> of the regions in the signed-in user's scope down to level `deepest`
    (4 townships, 5 villages; a village shows its township), so nobody types a 12-digit code.
    `blank` adds a first empty choice with that text."""
    from django.utils.html import format_html, format_html_join

    from fupin.core import access

    user = context["request"].user
    scope = access.regions_for(user)
    # a province officer's villages are ~10,000 options: nobody scrolls those on a phone, and
    # building them took most of each page. One level less until the list is short; the chosen
    # region stays listed.
    while deepest > 1 and scope.filter(level__lte=deepest).count() > PICKER_MAX_OPTIONS:
        deepest -= 1
    value = str(value or "")
    regions = scope.filter(Q(level__lte=deepest) | Q(code=value)).select_related("parent").order_by("code")
    options = [(r.code, " selected" if r.code == value else "",
                f"{r.parent.name} {r.name}" if r.level == 5 and r.parent_id else r.name) for r in regions]
    first = format_html('<option value="">{}</option>', blank) if blank else ""
    return format_html('<select name="{}" aria-label="{}">{}{}</select>', name, label, first,
                       format_html_join("", '<option value="{}"{}>{}</option>', options))


@register.simple_tag(takes_context=True)
def semester_picker(context, name="semester", value="", blank=""):
    """A <select> of the semesters around today, shown as 2026年秋季 (fupin.policy.semester)."""
    from django.utils import timezone
    from django.utils.html import format_html, format_html_join

    from fupin.policy import semester as semesters

    try:
        value = semesters.code(value) if value else ""
    except semesters.SemesterError:
        value = ""
    today = timezone.localdate()
    if not value and not blank:   # the current semester, not the next one listed first
        value = semesters.current(today)
    options = [(c, " selected" if c == value else "", text) for c, text in semesters.recent(today)]
    first = format_html('<option value="">{}</option>', blank) if blank else ""
    return format_html('<select name="{}" aria-label="学期">{}{}</select>', name, first,
                       format_html_join("", '<option value="{}"{}>{}</option>', options))


@register.filter
def pack_title(chain):
    """'sc-513435/sc-province/cn-national' → '四川某县': the policy's region, not the pack's file name."""
    from fupin.policy import explain

    return explain.pack_title(chain)


@register.filter
def explain_sentence(explanation):
    """An engine explanation as one sentence an officer can read out (fupin.policy.explain)."""
    from fupin.policy import explain

    return explain.sentence(explanation or {})


@register.filter
def explain_trace(explanation):
    """The lines of a computation's "计算过程", every parameter by its description (fupin.policy.explain)."""
    from fupin.policy import explain

    return explain.trace(explanation or {})
