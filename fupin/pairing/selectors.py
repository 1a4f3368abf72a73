"""Reads of the pairing room: what the household page shows, and a visit photo for its viewer."""
from __future__ import annotations

from fupin.core import access
from fupin.core.errors import NotFound

from .models import Measure, Pair, Visit, VisitPhoto


def household_section(user, household) -> dict:
    """The household's helper (and unit), its measures and its visits with their photos, newest
    first. The caller has already loaded the household through the access layer."""
    pair = Pair.objects.filter(household=household, ended_on__isnull=True).select_related("helper__unit").first()
    visits = list(Visit.objects.filter(household=household).select_related("helper")
                  .prefetch_related("photos").order_by("-date", "-id")[:20])
    measures = list(Measure.objects.filter(household=household).select_related("helper").order_by("-date", "-id")[:20])
    return {"pair": pair, "visits": visits, "measures": measures, "household": household}


def access_photo(user, pk: int) -> VisitPhoto:
    """A visit photo, if the user may read the household it was taken at (else not found)."""
    photo = VisitPhoto.objects.select_related("visit").filter(pk=pk).first()
    if photo is None:
        raise NotFound(f"找不到照片（编号 {pk}）")
    try:
        access.access_household(user, photo.visit.household_id)
    except NotFound:
        raise NotFound(f"找不到照片（编号 {pk}），或该户不在您的管辖范围内") from None
    return photo
