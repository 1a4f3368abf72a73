from django.conf import settings

from .roles import Cap, can, nav_for


def fupin_context(request):
    user = getattr(request, "user", None)
    caps, nav = set(), []
    if user is not None and user.is_authenticated:
        caps = {c for c in Cap.values if can(user.role, c)}
        nav = nav_for(user.role, user.region_id)   # the menu: derived from the capability table
    from . import democlock

    return {"caps": caps, "nav": nav, "DEMO": settings.DEMO, "DEMO_CLOCK": democlock.banner()}
