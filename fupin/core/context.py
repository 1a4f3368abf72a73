from django.conf import settings

from .roles import Cap, can


def fupin_context(request):
    user = getattr(request, "user", None)
    caps = set()
    if user is not None and user.is_authenticated:
        caps = {c for c in Cap.values if can(user.role, c)}
    return {"caps": caps, "DEMO": settings.DEMO}
