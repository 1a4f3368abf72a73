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
    from . import sql

    # precompiled: every change and every refusal writes one
    return sql.insert([event(actor, action, object_type=object_type, object_id=object_id, household_id=household_id,
                             result=result, summary=summary, detail=detail, ip=ip, actor_name=actor_name)])[0]


def event(actor: User | None, action: str, *, object_type: str = "", object_id: object = "",
          household_id: int | None = None, result: str = AuditResult.OK, summary: str = "",
          detail: dict | None = None, ip: str | None = None, actor_name: str | None = None) -> AuditEvent:
    """The row `record` writes, not yet written: for a caller that writes it in the same statement as
    the object it records (`core.sql.insert_with`)."""
    return AuditEvent(
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


# What each object type is called on the audit page (the codes stay in the database, for queries).
OBJECT_LABELS = {
    "account": "资金账户", "announcement": "公告", "assessment": "考核", "campaign": "督查检查", "capability": "权限",
    "certificate": "服务证明", "claim": "结算单", "compliance": "帮扶达标表", "condition": "病种认定", "deferral": "延期",
    "declaration": "自主申报", "dispatch": "派驻", "dropout_visit": "控辍走访", "fd_services": "家庭医生服务",
    "file": "文件", "finding": "核查发现", "five_heads": "五长责任名单", "four_cards": "四卡", "guarantee": "三保障核查",
    "household": "户", "income": "收入", "indicator": "指标", "leave": "请假", "lookback": "回头看", "measure": "帮扶措施",
    "monitoring_batch": "部门名单", "monitoring_link": "比对结果", "monitoring_warning": "预警", "notice": "公示",
    "objection": "异议", "pair": "结对", "payment_batch": "发放批次", "person": "人", "problem": "问题",
    "rectification_campaign": "整改行动", "region": "区划", "roster": "学生名册", "subsidy_run": "教育资助计算",
    "support_member": "派驻人员", "support_plan": "对口支援计划", "survey": "入户调查", "target": "目标任务",
    "transaction": "凭证", "user": "用户", "visit": "走访", "workflow": "流程",
}


def describe_objects(events) -> list:
    """Each event with `object_text`: what it is about as a person reads it ("用户 张三", "户 12"),
    with users named (one query for the page)."""
    events = list(events)
    user_ids = {int(e.object_id) for e in events if e.object_type == "user" and str(e.object_id).isdigit()}
    names = {u.pk: u.get_full_name() or u.username for u in User.objects.filter(pk__in=user_ids)}
    for e in events:
        kind = OBJECT_LABELS.get(e.object_type, "对象" if e.object_type else "")
        if e.object_type == "user" and str(e.object_id).isdigit():
            e.object_text = f"{kind} {names.get(int(e.object_id), '（已删除）')}"
        elif e.object_type == "capability":
            from .roles import Cap

            e.object_text = f"{kind}“{Cap(e.object_id).label}”" if e.object_id in Cap.values else kind
        else:
            e.object_text = f"{kind} {e.object_id}".strip()
    return events


__all__ = ["record", "export", "changes", "describe_objects", "AuditAction", "AuditResult"]
