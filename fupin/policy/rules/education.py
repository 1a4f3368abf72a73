"""Education aid per student per semester (SPEC §4 table, §5). Amounts in fen; no amount here.

Stacking: a student who qualifies through several categories (registered poor, 低保, 特困)
receives each item once; items of different kinds stack. A boarding pupil receives the
boarding living subsidy, a day pupil the day-pupil subsidy, never both.
"""
from fupin.policy.engine import Model
from fupin.policy.errors import PolicyError
from fupin.policy.expr import If, Min, P, Rule, Var

STAGES = ("preschool", "primary", "junior", "senior", "sec_voc", "college")
region = Var("region", "str", "区划代码")
date = Var("date", "date", "学期开始日期")
stage = Var("stage", "str", "学段", STAGES)
semester = Var("semester", "str", "学期", ("spring", "autumn"))
boarding = Var("boarding", "bool", "寄宿")
registered_poor = Var("registered_poor", "bool", "建档立卡")
dibao = Var("dibao", "bool", "低保")
tekun = Var("tekun", "bool", "特困")
new_entrant = Var("new_entrant", "bool", "当年新生")
fee = Var("fee", "int", "本学期应缴保教费或学费（分）")

eligible = registered_poor | dibao | tekun


def half(amount):
    """A per-year amount for one semester: half, rounded down to the fen."""
    return amount // 2


compulsory = stage.isin(["primary", "junior"])

RULES = [
    Rule("education.preschool_fee_waiver", "学前保教费减免", If(
        stage.eq("preschool") & eligible,
        If(P("education.preschool.fee_waiver_mode").eq("actual"), fee,
           If(P("education.preschool.fee_waiver_mode").eq("capped"),
              Min(fee, half(P("education.preschool.fee_waiver_cap_per_year"))), 0, "按限额减免"),
           "按实际收费减免"),
        0, "学前且家庭经济困难"), date),
    Rule("education.preschool_living", "学前生活补助", If(
        stage.eq("preschool") & eligible, half(P("education.preschool.living_per_year")), 0,
        "学前且家庭经济困难"), date),
    Rule("education.compulsory_living", "义务教育生活补助", If(
        compulsory & eligible,
        If(boarding,
           If(stage.eq("primary"), half(P("education.compulsory.boarding_living_per_year.primary")),
              half(P("education.compulsory.boarding_living_per_year.junior")), "小学"),
           If(stage.eq("primary"), half(P("education.compulsory.day_living_per_year.primary")),
              half(P("education.compulsory.day_living_per_year.junior")), "小学"),
           "寄宿生"),
        0, "义务教育且家庭经济困难"), date),
    Rule("education.nutrition_meals", "营养膳食补助", If(
        compulsory & (eligible | ~P("education.nutrition.poor_only")),
        P("education.nutrition.daily_rate") * P("education.school_days_per_semester"), 0,
        "义务教育学生（按政策是否仅限困难学生）"), date),
    Rule("education.senior_tuition_waiver", "普通高中免学费", If(
        stage.eq("senior") & eligible & P("education.senior.tuition_waiver"), fee, 0,
        "普通高中家庭经济困难且政策免学费"), date),
    Rule("education.senior_grant", "普通高中国家助学金", If(
        stage.eq("senior") & eligible, half(P("education.senior.grant_per_year")), 0,
        "普通高中且家庭经济困难"), date),
    Rule("education.secvoc_tuition_waiver", "中职免学费", If(
        stage.eq("sec_voc") & P("education.secvoc.tuition_waiver"), fee, 0, "中职且政策免学费"), date),
    Rule("education.secvoc_grant", "中职国家助学金", If(
        stage.eq("sec_voc") & eligible,
        If(registered_poor,
           half(P("education.secvoc.grant_per_year")) + P("education.secvoc.poor_extra_per_semester"),
           half(P("education.secvoc.grant_per_year")), "建档立卡"),
        0, "中职且家庭经济困难"), date),
    # A subsidy of its own for registered-poor vocational students, beside the grant (湖北: 中、高等职业教育
    # 每人每年不低于3000元). The engine's `college` stage does not tell 高职 from 本科, so here it is paid to
    # 中职 students; higher-vocational students get it through the college room.
    Rule("education.vocational_poor", "职业教育建档立卡补助", If(
        stage.eq("sec_voc") & registered_poor, half(P("education.vocational.poor_subsidy_per_year")), 0,
        "中职且建档立卡"), date),
    # 每学年4000元: half in each semester of the entry year, as the other yearly amounts are paid.
    Rule("education.college_entrant", "大学新生入学资助", If(
        stage.eq("college") & new_entrant & registered_poor,
        half(P("education.college.entrant_aid")), 0, "建档立卡大学新生（入学当年两个学期）"), date),
    Rule("education.tekun_extra", "特困学生叠加补助", If(
        tekun & stage.isin(["preschool", "primary", "junior", "senior", "sec_voc"]),
        half(P("education.tekun.extra_living_per_year")), 0, "特困供养学生"), date),
]

# the semester is read by check_case (the date must lie in it), though no rule needs it any more
MODEL = Model("education", RULES, region, extra=(semester,))


def check_case(chain, values: dict, where: str = "") -> None:
    """What the rules cannot say by themselves: the date lies in the semester named (a spring
    semester does not start in September). `values` are validated inputs (see validate_case);
    the months come from the pack (education.semester_months)."""
    date_, term = values["date"], values["semester"]
    months = chain.lookup("education.semester_months", date_).value
    allowed = months.get(term) if isinstance(months, dict) else None
    if not isinstance(allowed, list) or date_.month not in allowed:
        label = {"spring": "春季", "autumn": "秋季"}[term]
        shown = "、".join(str(m) for m in allowed) if isinstance(allowed, list) else "（政策包未规定）"
        raise PolicyError(f"{where}学期开始日期 {date_.isoformat()} 不在{label}学期（semester: {term}）内：{label}学期开学月份为 "
                          f"{shown} 月；请核对学期或日期")
