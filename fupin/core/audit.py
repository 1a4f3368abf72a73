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
    "account": "资金账户", "aid_application": "资助申请", "aid_payment_list": "资助发放名单", "allocation_notice": "资金分配公告",
    "announcement": "公告", "assessment": "考核", "attendance": "岗位考勤", "bulletin": "简报", "campaign": "督查检查",
    "capability": "权限", "certificate": "服务证明", "charity": "捐赠与资助台账", "charity_call": "慈善申报公告", "charity_grant": "慈善资助",
    "charity_notice": "慈善公示", "charity_objection": "慈善公示异议", "checkups": "健康体检", "claim": "结算单", "college": "大学生信息",
    "college_student": "大学生", "compliance": "帮扶达标表", "condition": "病种认定", "consultation": "会诊",
    "consultations": "会诊", "cooperative": "合作社", "course": "培训班", "coverage": "参保情况", "declaration": "自主申报",
    "deferral": "延期", "dispatch": "派驻", "dividend": "分红", "donation": "捐赠", "donor": "捐赠人", "dropout_visit": "控辍走访",
    "enrolment": "学籍", "fd_contract": "家庭医生签约", "fd_contracts": "家庭医生签约", "fd_service": "家庭医生服务",
    "fd_services": "家庭医生服务", "fd_team": "家庭医生团队", "file": "文件", "finding": "核查发现", "five_heads": "五长责任名单",
    "followup": "随访", "four_cards": "四卡", "guarantee": "三保障核查", "helper": "帮扶责任人", "household": "户",
    "housing_subsidy": "住房补助", "id_search": "按身份证号查找", "income": "收入", "indicator": "指标", "insurance_marks": "参保标识", "job": "后台任务",
    "labour": "劳动力信息", "labour_record": "就业记录", "leading_group": "领导小组", "learning_pair": "学困生结对",
    "learning_pairs": "学困生结对", "learning_ranking": "学困生进步排名", "learning_record": "学困生帮扶记录", "leave": "请假",
    "lianghou": "两后生", "lianghou_followup": "两后生跟踪", "loan": "小额信贷", "lookback": "回头看", "measure": "帮扶措施",
    "meeting": "会议", "mobile_clinic": "巡回医疗", "mobile_clinics": "巡回医疗", "monitoring_batch": "部门名单",
    "monitoring_link": "比对结果", "monitoring_warning": "预警", "notice": "公示", "notify_run": "提醒发送",
    "notify_subscription": "提醒订阅", "objection": "异议", "pair": "结对", "pairing_unit": "帮扶单位", "pairs": "结对",
    "payment_batch": "发放批次", "person": "人", "plan": "计划", "plan_item": "计划事项", "pledge": "捐赠承诺", "post": "公益性岗位",
    "pregnancy": "孕产妇", "premium_run": "资助参保计算", "problem": "问题", "problems": "问题", "project": "项目",
    "project_progress": "项目进度", "projects": "项目", "pubhealth_activities": "公共卫生活动", "pubhealth_activity": "公共卫生活动",
    "pubhealth_figure": "公共卫生指标", "pubhealth_figures": "公共卫生指标", "rectification_campaign": "整改行动", "region": "区划",
    "report": "报表", "roster": "学生名册", "school": "学校", "school_gap_project": "学校补短板项目", "school_grades": "学校成绩",
    "school_measure": "学校帮扶措施", "school_measures": "学校帮扶措施", "school_mentor": "学校结对教师", "school_register": "学校档案",
    "school_teacher": "教师", "subsidy_run": "教育资助计算", "sunshine_class": "阳光班", "support_member": "派驻人员",
    "support_plan": "对口支援计划", "support_sanction": "对口支援奖惩", "survey": "入户调查", "target": "目标任务", "tb_case": "结核病患者",
    "tb_cases": "结核病患者", "team": "工作队", "term_result": "期末成绩", "transaction": "凭证", "treatment_case": "救治病例",
    "treatment_cases": "救治病例", "unauthorised_return": "擅自返回", "unpaired": "未结对户", "user": "用户", "village": "村",
    "village_duty": "村级责任", "village_finance": "村集体经济", "village_register": "村级档案", "visit": "走访", "warnings": "预警",
    "welfare_application": "救助申请", "welfare_assets": "救助家庭财产", "welfare_enrolment": "救助对象",
    "welfare_recheck": "救助复核", "welfare_run": "救助金发放计算", "whatif_proposal": "政策测算方案", "whatif_result": "政策测算结果",
    "whatif_scenario": "政策测算情景", "workflow": "流程",
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
