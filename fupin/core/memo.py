"""Reads too slow to repeat on every page of a list, kept until anything is written.

Every change of state writes its audit event in the same transaction (STYLE.md habit 2), so the
newest audit event's id is a version of the whole database: a result kept under it, for the same
user and the same arguments, is exactly what computing it again would give, until the next write
anywhere (then the key changes and the old entry ages out). Paging, sorting and filtering a long
list (the county's follow-up list) then costs one indexed MAX(id) instead of the whole computation.
"""
from __future__ import annotations

import hashlib
from typing import Callable, TypeVar

T = TypeVar("T")
TIMEOUT = 600   # seconds an unread entry is kept


def remembered(user, name: str, args: tuple, compute: Callable[[], T]) -> T:
    from django.core.cache import cache

    from .models import AuditEvent

    version = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    key = "fupin:memo:" + hashlib.sha256(repr((name, user.pk, user.role, user.region_id, args, version))
                                         .encode()).hexdigest()
    hit = cache.get(key)
    if hit is None:
        hit = compute()
        cache.set(key, hit, TIMEOUT)
    return hit
