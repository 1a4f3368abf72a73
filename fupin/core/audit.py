"""Writing audit events. Callers run inside the transaction of the change they record."""
from __future__ import annotations

from .models import AuditAction, AuditEvent, AuditResult, User


def record(
    actor: User | None,
    action: str,
    *,
    object_type: str = "",
    object_id: object = "",
    household_id: int | None = None,
    result: str = AuditResult.OK,
    summary: str = "",
    detail: dict | None = None,
    ip: str | None = None,
    actor_name: str | None = None,
) -> AuditEvent:
    return AuditEvent.objects.create(
        actor=actor if (actor is not None and actor.pk) else None,
        actor_name=actor_name or (actor.username if actor is not None else "系统"),
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        household_id=household_id,
        result=result,
        summary=summary[:300],
        detail=detail or {},
        ip=ip,
    )


def export(actor: User, *, what: str, object_type: str, object_id: object, persons: int,
           full_ids: bool = False) -> AuditEvent:
    """Every export and every print of personal data (workbooks, rosters, cards, notices, slips):
    who, what, and how many persons it carried (PIPL art. 51; 等保 audit of data leaving the system)."""
    return record(actor, AuditAction.EXPORT, object_type=object_type, object_id=object_id,
                  summary=f"{what}：{persons} 人（{'含完整身份证号' if full_ids else '身份证号已脱敏'}）",
                  detail={"persons": persons, "full_ids": full_ids, "what": what})


def changes(before: dict, after: dict) -> dict:
    """The fields that differ, as {field: [old, new]} (JSON-safe)."""
    return {k: [_j(before.get(k)), _j(v)] for k, v in after.items() if before.get(k) != v}


def _j(v):
    if v is None or isinstance(v, (str, int, bool, list, dict)):
        return v
    return str(v)


__all__ = ["record", "export", "changes", "AuditAction", "AuditResult"]
