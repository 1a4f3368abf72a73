"""Roles and what each may do. The one table every access check reads (SPEC §14)."""
from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    COUNTY_ADMIN = "county_admin", "县级管理员"          # manages users; everything in its county
    COUNTY_OFFICER = "county_officer", "县扶贫办工作人员"  # owns the registry of its county
    TOWNSHIP_OFFICER = "township_officer", "乡镇工作人员"  # reviews and enters data for its township
    VILLAGE_CADRE = "village_cadre", "村干部/驻村工作队"   # collects data door to door
    PAIRING_HELPER = "pairing_helper", "帮扶责任人"        # reads the households of its village
    SCHOOL_AID = "school_aid", "学校资助专干"              # reads persons for student rosters
    HOSPITAL_WINDOW = "hospital_window", "医院结算窗口"    # finds patients by full ID number
    HEALTH_OFFICER = "health_officer", "卫健工作人员"      # reads health data of its region
    CIVIL_AFFAIRS = "civil_affairs", "民政工作人员"        # reads; needs bank accounts for payments
    INSPECTOR = "inspector", "督查人员（只读）"            # reads everything in scope, masked
    AUDITOR = "auditor", "审计人员"                        # reads the audit log
    MEDICAL_AFFAIRS = "medical_affairs", "医院医务部"        # counterpart-support plan and assessments
    SUPPORT_STAFF = "support_staff", "派驻医务人员"          # records own teaching, rounds, attendance


class Cap(models.TextChoices):
    READ = "read", "查看户籍"
    WRITE = "write", "录入与修改户籍"
    IMPORT = "import", "导入Excel"
    EXPORT = "export", "导出Excel"
    REVEAL_ID = "reveal_id", "查看完整身份证号"
    REVEAL_BANK = "reveal_bank", "查看完整银行账号"
    FIND_BY_FULL_ID = "find_by_full_id", "按完整身份证号查找"
    READ_AUDIT = "read_audit", "查看审计日志"
    MANAGE_USERS = "manage_users", "管理用户"
    SUPPORT_MANAGE = "support_manage", "管理对口支援"
    SUPPORT_RECORD = "support_record", "记录派驻工作"
    # Money: each action has its own capability, owned by the office that does it (SPEC §1).
    SETTLE = "settle", "医疗费用一站式结算"          # hospital window: preview and settle a claim
    REVERSE_SETTLEMENT = "reverse_settlement", "冲销医疗结算"  # hospital window; never one's own claim
    PAY_SUBSIDY = "pay_subsidy", "发放健康定额补助"   # health bureau: fixed health subsidies
    RECORD_CONDITION = "record_condition", "登记患者病情与证明"  # health bureau: conditions, certificates
    EDU_MANAGE = "edu_manage", "管理学生资助名册与批次"  # school aid office: roster, compute, review
    POST_RUN = "post_run", "审批并过账资助批次"        # county office: approve and post a semester run
    BUDGET_MANAGE = "budget_manage", "建立预算科目与拨款"  # county office: budget lines, allocations
    APPROVE_ALLOWANCE = "approve_allowance", "审批派驻补助"  # medical affairs: support allowances
    REVERSE_PAYMENT = "reverse_payment", "冲销支付"        # county office: reverse ledger payments
    MONITOR = "monitor", "处理比对预警与人工复核"          # county/township/village: doubt lists, warnings
    MONITOR_IMPORT = "monitor_import", "导入部门比对名单"  # offices that receive other departments' lists
    # Oversight (SPEC §12): targets are set by the level above; problems are registered and closed
    # (销号) by township/county offices and rectified by whoever owns them.
    SET_TARGETS = "set_targets", "下达年度目标任务"
    PROBLEM_MANAGE = "problem_manage", "登记问题与核验销号"
    PROBLEM_RECTIFY = "problem_rectify", "整改问题并提交结果"
    INSPECT = "inspect", "组织检查抽样与记录核查结果"  # county/township offices: campaigns, findings
    # Social assistance (fupin/welfare, SPEC §7): civil affairs handles applications, re-checks
    # and computes monthly runs; another civil-affairs officer approves and posts them.
    WELFARE_MANAGE = "welfare_manage", "办理社会救助申请、复核与发放计算"
    WELFARE_APPROVE = "welfare_approve", "审批社会救助并过账发放"
    PAIRING_VISIT = "pairing_visit", "记录帮扶走访与措施"  # a pairing helper: visits and measures of its households
    REPORT_FILE = "report_file", "生成、审核与上报统计报表"  # oversight reports upward (报表)
    # Labour room (fupin/labour) and pairing administration (fupin/pairing): 雨露计划 and the
    # posts are run by the county poverty office (seed 003), courses also by townships.
    TRAINING_MANAGE = "training_manage", "管理培训班、报名、考勤与结业"
    TRAINING_PAY = "training_pay", "发放培训补助"
    PUBLIC_JOB_MANAGE = "public_job_manage", "管理公益性岗位与上岗人员"
    PUBLIC_JOB_PAY = "public_job_pay", "发放公益性岗位补贴"
    PAIRING_MANAGE = "pairing_manage", "管理帮扶单位、帮扶责任人与驻村工作队"
    # Projects and charity (fupin/projects, fupin/charity): who may do which lifecycle step is
    # pack data (projects.lifecycle); these say who may touch the room at all, and who moves money.
    PROJECT_MANAGE = "project_manage", "申报与推进扶贫项目"
    PROJECT_FUNDS = "project_funds", "项目资金拨付与支付"
    CHARITY_RECORD = "charity_record", "登记捐赠、认捐与资助申请"
    CHARITY_GRANT = "charity_grant", "审批并发放慈善资助"
    # Villages and work plans (villages room, issue #22): the village register and its
    # responsible units; yearly plans, leading groups and meeting decisions.
    VILLAGE_MANAGE = "village_manage", "维护村级档案与帮扶责任"
    PLAN_MANAGE = "plan_manage", "编制年度计划、领导小组与会议议定事项"
    # Schools and public-health programmes (schools and pubhealth rooms, issue #22): the school
    # register, teachers and 两后生 follow-up; programme activities and the health systems' figures.
    SCHOOL_MANAGE = "school_manage", "维护学校档案、教师与两后生跟踪"
    PUBHEALTH_MANAGE = "pubhealth_manage", "登记公共卫生项目活动与导入指标数据"
    WHATIF = "whatif", "政策测算与政策包修订"  # policy what-if (fupin/whatif, issue 20)
    # Premium subsidy (资助参保, issue #17): the yearly run and its reversal, see the block below.
    PAY_PREMIUM = "pay_premium", "资助参保代缴与冲销"


R, C = Role, Cap
CAPABILITIES: dict[str, frozenset[str]] = {
    R.COUNTY_ADMIN: frozenset({C.READ, C.WRITE, C.IMPORT, C.EXPORT, C.REVEAL_ID, C.REVEAL_BANK,
                               C.FIND_BY_FULL_ID, C.MANAGE_USERS}),
    R.COUNTY_OFFICER: frozenset({C.READ, C.WRITE, C.IMPORT, C.EXPORT, C.REVEAL_ID, C.REVEAL_BANK,
                                 C.FIND_BY_FULL_ID, C.POST_RUN, C.BUDGET_MANAGE, C.REVERSE_PAYMENT,
                                 C.SET_TARGETS, C.PROBLEM_MANAGE, C.PROBLEM_RECTIFY, C.INSPECT,
                                 C.MONITOR, C.MONITOR_IMPORT, C.REPORT_FILE}),
    R.TOWNSHIP_OFFICER: frozenset({C.READ, C.WRITE, C.IMPORT, C.EXPORT, C.REVEAL_ID, C.FIND_BY_FULL_ID,
                                   C.SET_TARGETS, C.PROBLEM_MANAGE, C.PROBLEM_RECTIFY, C.INSPECT,
                                   C.MONITOR, C.MONITOR_IMPORT, C.REPORT_FILE}),
    R.VILLAGE_CADRE: frozenset({C.READ, C.WRITE, C.REVEAL_ID, C.FIND_BY_FULL_ID, C.PROBLEM_RECTIFY, C.MONITOR}),
    R.PAIRING_HELPER: frozenset({C.READ, C.PAIRING_VISIT}),
    R.SCHOOL_AID: frozenset({C.READ, C.FIND_BY_FULL_ID, C.EDU_MANAGE}),
    R.HOSPITAL_WINDOW: frozenset({C.READ, C.FIND_BY_FULL_ID, C.SETTLE, C.REVERSE_SETTLEMENT}),
    R.HEALTH_OFFICER: frozenset({C.READ, C.EXPORT, C.FIND_BY_FULL_ID, C.PAY_SUBSIDY, C.RECORD_CONDITION,
                                 C.MONITOR_IMPORT}),
    R.CIVIL_AFFAIRS: frozenset({C.READ, C.EXPORT, C.REVEAL_BANK, C.FIND_BY_FULL_ID, C.MONITOR_IMPORT,
                                C.WELFARE_MANAGE, C.WELFARE_APPROVE}),  # welfare room
    R.INSPECTOR: frozenset({C.READ}),
    R.AUDITOR: frozenset({C.READ_AUDIT}),
    R.MEDICAL_AFFAIRS: frozenset({C.SUPPORT_MANAGE, C.SUPPORT_RECORD, C.APPROVE_ALLOWANCE}),
    R.SUPPORT_STAFF: frozenset({C.SUPPORT_RECORD}),
}
# Labour room and pairing administration (fupin/labour, fupin/pairing): one block, added here.
CAPABILITIES[R.COUNTY_OFFICER] |= {C.TRAINING_MANAGE, C.TRAINING_PAY, C.PUBLIC_JOB_MANAGE, C.PUBLIC_JOB_PAY,
                                   C.PAIRING_MANAGE}
CAPABILITIES[R.TOWNSHIP_OFFICER] |= {C.TRAINING_MANAGE, C.PUBLIC_JOB_MANAGE}

# Villages and work plans (villages room, issue #22): county and township offices keep the village
# register and the plans (and record items done); the county administrator the register too.
for _role, _caps in ((R.COUNTY_OFFICER, {C.VILLAGE_MANAGE, C.PLAN_MANAGE}),
                     (R.TOWNSHIP_OFFICER, {C.VILLAGE_MANAGE, C.PLAN_MANAGE}),
                     (R.COUNTY_ADMIN, {C.VILLAGE_MANAGE})):
    CAPABILITIES[_role] = CAPABILITIES[_role] | _caps

# Schools and public-health programmes (schools and pubhealth rooms, issue #22): the education side
# (school aid office, county office) keeps schools, teachers and 两后生; the health bureau the programmes.
for _role, _caps in ((R.SCHOOL_AID, {C.SCHOOL_MANAGE}), (R.COUNTY_OFFICER, {C.SCHOOL_MANAGE, C.PUBHEALTH_MANAGE}),
                     (R.HEALTH_OFFICER, {C.PUBHEALTH_MANAGE})):
    CAPABILITIES[_role] = CAPABILITIES[_role] | _caps


# Capabilities whose holders must sign in with a second factor (等保2.0: administrators and
# whoever moves money or sees full personal numbers).
SECOND_FACTOR_CAPS = frozenset({C.MANAGE_USERS, C.REVEAL_ID, C.REVEAL_BANK, C.SETTLE, C.REVERSE_SETTLEMENT,
                                C.PAY_SUBSIDY, C.POST_RUN, C.BUDGET_MANAGE, C.APPROVE_ALLOWANCE,
                                C.REVERSE_PAYMENT, C.TRAINING_PAY, C.PUBLIC_JOB_PAY, C.WELFARE_APPROVE})


# Projects and charity (fupin/projects, fupin/charity): one block, so merges stay easy.
for _role, _caps in {R.COUNTY_OFFICER: {C.PROJECT_MANAGE, C.PROJECT_FUNDS, C.CHARITY_RECORD, C.CHARITY_GRANT},
                     R.TOWNSHIP_OFFICER: {C.PROJECT_MANAGE, C.CHARITY_RECORD},
                     R.VILLAGE_CADRE: {C.PROJECT_MANAGE},
                     R.CIVIL_AFFAIRS: {C.CHARITY_RECORD}}.items():
    CAPABILITIES[_role] = CAPABILITIES[_role] | frozenset(_caps)
SECOND_FACTOR_CAPS = SECOND_FACTOR_CAPS | {C.PROJECT_FUNDS, C.CHARITY_GRANT}

# Policy what-if (fupin/whatif, issue 20): the offices that own a pack's parameters simulate a
# change and propose it; who approves each step of a pack change is pack data (workflow.pack_change).
for _role in (R.COUNTY_OFFICER, R.TOWNSHIP_OFFICER, R.CIVIL_AFFAIRS, R.HEALTH_OFFICER, R.COUNTY_ADMIN):
    CAPABILITIES[_role] = CAPABILITIES[_role] | {C.WHATIF}

# Premium subsidy (资助参保, fupin/health/insurance.py, issue #17): the yearly run that pays the poor's
# individual contribution, and its reversal, are the health/medical-insurance office's own action,
# apart from the fixed health subsidies (PAY_SUBSIDY). Money moves: second factor.
CAPABILITIES[R.HEALTH_OFFICER] = CAPABILITIES[R.HEALTH_OFFICER] | {C.PAY_PREMIUM}
SECOND_FACTOR_CAPS = SECOND_FACTOR_CAPS | {C.PAY_PREMIUM}


def needs_second_factor(role: str) -> bool:
    return bool(CAPABILITIES.get(role, frozenset()) & SECOND_FACTOR_CAPS)


def can(role: str, cap: str) -> bool:
    return cap in CAPABILITIES.get(role, frozenset())


# ---- The menu and each role's home page (issue 13 §2) -------------------------------------------
# Each menu entry names the capabilities that open its page (any one of them suffices), so a role's
# menu is derived from CAPABILITIES above and never shows a link that would answer 403. The order
# is the order on screen. Pages whose address depends on the user carry a placeholder.
NAV: list[tuple[object, str, frozenset[str]]] = [
    (_("待办"), "/workflows/todo/", frozenset({C.WRITE})),
    (_("户查询"), "/households/", frozenset({C.READ})),
    (_("区划"), "/regions/{region}/", frozenset({C.READ})),
    (_("作战图"), "/oversight/", frozenset({C.READ})),
    (_("导入导出"), "/exchange/", frozenset({C.IMPORT})),
    (_("教育资助"), "/education/", frozenset({C.EDU_MANAGE, C.POST_RUN, C.WRITE})),
    (_("我的帮扶户"), "/pairing/", frozenset({C.PAIRING_VISIT})),
    (_("结对管理"), "/pairing/pairs/", frozenset({C.WRITE})),
    (_("帮扶单位与人员"), "/pairing/admin/", frozenset({C.PAIRING_MANAGE})),      # pairing administration
    (_("劳动力与培训"), "/labour/", frozenset({C.TRAINING_MANAGE, C.EXPORT})),      # labour room
    (_("大学生"), "/education/college/", frozenset({C.EDU_MANAGE, C.WRITE})),      # college-student database
    (_("资助评审"), "/education/aid/", frozenset({C.EDU_MANAGE, C.POST_RUN})),     # student aid procedure
    (_("学困生帮扶"), "/education/learning/", frozenset({C.EDU_MANAGE})),                # learning support pairs (a19)
    (_("对口支援"), "/support/", frozenset({C.SUPPORT_MANAGE, C.SUPPORT_RECORD})),
    (_("结算窗口"), "/health/window/", frozenset({C.SETTLE})),
    (_("健康扶贫"), "/health/", frozenset({C.PAY_SUBSIDY, C.RECORD_CONDITION})),
    (_("资金"), "/funds/", frozenset({C.READ_AUDIT, C.EXPORT})),
    (_("比对预警"), "/monitoring/", frozenset({C.MONITOR, C.MONITOR_IMPORT})),
    (_("社会救助"), "/welfare/", frozenset({C.WELFARE_MANAGE, C.WRITE})),          # welfare room
    (_("村级档案"), "/villages/", frozenset({C.VILLAGE_MANAGE})),  # villages room (issue #22)
    (_("年度计划"), "/plans/", frozenset({C.PLAN_MANAGE})),         # plans room (issue #22)
    (_("学校与教师"), "/schools/", frozenset({C.SCHOOL_MANAGE})),    # schools room (issue #22)
    (_("公共卫生"), "/pubhealth/", frozenset({C.PUBHEALTH_MANAGE})),  # pubhealth room (issue #22)
    (_("我的提醒"), "/notify/", frozenset({C.PLAN_MANAGE, C.MONITOR, C.PROBLEM_RECTIFY})),  # notify room (issue #22)
    (_("项目库"), "/projects/", frozenset({C.PROJECT_MANAGE, C.PROJECT_FUNDS})),        # fupin/projects
    (_("社会捐赠"), "/charity/", frozenset({C.CHARITY_RECORD, C.CHARITY_GRANT})),      # fupin/charity
    (_("政策测算"), "/whatif/", frozenset({C.WHATIF})),                                # fupin/whatif (issue 20)
    (_("用户管理"), "/account/users/", frozenset({C.MANAGE_USERS})),
    (_("审计日志"), "/audit/", frozenset({C.READ_AUDIT})),
    # jobs room (issue 13 §3): the user's own background imports, exports and runs
    (_("我的任务"), "/jobs/", frozenset({C.IMPORT, C.EXPORT, C.EDU_MANAGE, C.MONITOR_IMPORT, C.WHATIF})),
]

# Where a role lands after signing in: its own to-do, a page of the menu above. A role not listed
# lands on its region's page (the counts and the reminders of its region).
HOME: dict[str, str] = {
    R.COUNTY_ADMIN: "/account/users/",
    R.PAIRING_HELPER: "/pairing/",
    R.SCHOOL_AID: "/education/",
    R.HOSPITAL_WINDOW: "/health/window/",
    R.HEALTH_OFFICER: "/health/",
    R.INSPECTOR: "/oversight/",
    R.AUDITOR: "/audit/",
    R.MEDICAL_AFFAIRS: "/support/",
    R.SUPPORT_STAFF: "/support/",
}


def nav_for(role: str, region_code: str | None) -> list[tuple[object, str]]:
    """(label, address) of every menu entry the role may open."""
    caps = CAPABILITIES.get(role, frozenset())
    return [(label, url.format(region=region_code or "")) for label, url, opens in NAV
            if opens & caps and (region_code or "{region}" not in url)]


def home_for(role: str, region_code: str | None) -> str:
    return HOME.get(role) or (f"/regions/{region_code}/" if region_code else "/account/tokens/")
