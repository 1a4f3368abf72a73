"""Social assistance per recipient per month (SPEC §7; seeds 002, 003). Amounts in fen; no amount here.

One model, one rule per programme: a case names its programme and only that programme's rule
pays; the others give 0. So a monthly run computes every programme's roster with the same
tree, and the amount of a case is the sum of its row.

- 低保: (standard − household per-capita monthly income) × counted members, plus the province's
  category add-on (分类施保) per counted member; nothing when the income reaches the standard.
  The means test also counts the assets verified at the home visit: nothing when the family's
  financial assets exceed `welfare.dibao.asset_months` months of the standard per counted member,
  or when it has an asset of a kind the pack lists in `welfare.dibao.excluded_assets` (a
  non-essential vehicle, commercial or more than `welfare.dibao.max_houses` houses, a business
  registration). Each test is a named branch, so the explanation says which one failed.
- 特困: centralised or dispersed support, plus the care subsidy of the person's care level.
- 临时救助: the amount of the cause, but never above what is left of the yearly limit.
- 残疾人两项补贴: nursing subsidy by grade (1, 2); living subsidy for the poor disabled.
- 计划生育: reward support (奖励扶助), special support (特别扶助) by kind (death / disabled).
"""
from fupin.policy.engine import Model
from fupin.policy.expr import Const, If, Max, Min, P, Rule, Var

PROGRAMMES = ("dibao", "tekun", "temporary", "disability_nursing", "disability_living", "fp_reward", "fp_special")
# one list of every programme's categories, so one Var checks them all (the service checks
# that a category belongs to its programme: CATEGORIES_OF)
CATEGORIES_OF = {
    "dibao": ("ordinary", "class_a", "class_b"),
    "tekun": ("centralised", "dispersed"),
    "temporary": ("illness", "disaster", "accident"),
    "disability_nursing": ("grade1", "grade2"),
    "disability_living": ("ordinary",),
    "fp_reward": ("ordinary",),
    "fp_special": ("death", "disabled"),
}
CATEGORIES = tuple(dict.fromkeys(c for cs in CATEGORIES_OF.values() for c in cs))
CARE_LEVELS = ("none", "self", "partial", "full")
# the Chinese names shown on screens and in explanations (never the codes above)
LABELS = {"ordinary": "一般", "class_a": "A类（重点保障）", "class_b": "B类", "centralised": "集中供养",
          "dispersed": "分散供养", "illness": "因病", "disaster": "因灾", "accident": "因意外事故",
          "grade1": "一级", "grade2": "二级", "death": "独生子女死亡家庭", "disabled": "独生子女伤残家庭",
          "none": "无", "self": "生活自理", "partial": "部分不能自理", "full": "完全不能自理",
          # the asset kinds `welfare.dibao.excluded_assets` may list
          "vehicle": "非生活必需的机动车辆", "housing": "商业用房或超过规定套数的住房", "business": "工商登记的企业或个体户"}
ASSET_KINDS = ("vehicle", "housing", "business")

region = Var("region", "str", "区划代码")
date = Var("date", "date", "发放月份第一天")
programme = Var("programme", "str", "救助项目", PROGRAMMES)
category = Var("category", "str", "类别", CATEGORIES)
care_level = Var("care_level", "str", "照料护理等级", CARE_LEVELS)
income = Var("income", "int", "家庭月人均收入（分）")
members = Var("members", "int", "计入保障的人数")
used_this_year = Var("used_this_year", "int", "本年已获临时救助（分）")
# the family's assets as verified at the home visit (入户核查), kept on the enrolment
financial_assets = Var("financial_assets", "int", "家庭金融资产合计（分）")
vehicle = Var("vehicle", "bool", "有非生活必需的机动车辆")
commercial_housing = Var("commercial_housing", "bool", "有商业用房")
houses = Var("houses", "int", "住房套数")
business = Var("business", "bool", "有工商登记")


def _by(var, names: dict, other=0, label=""):
    """If var == key then amount, for each key in order; `other` otherwise."""
    out = other
    for key, amount in reversed(list(names.items())):
        out = If(var.eq(key), amount, out, f"{label}：{LABELS[key]}")
    return out


standard = P("welfare.dibao.standard_per_month")
dibao_gap = If(standard > income, (standard - income) * members, 0, "月人均收入低于低保标准")
dibao_extra = _by(category, {"class_a": P("welfare.dibao.category_extra_per_month.class_a") * members,
                             "class_b": P("welfare.dibao.category_extra_per_month.class_b") * members},
                  label="分类施保")
care = _by(care_level, {"full": P("welfare.tekun.care_per_month.full"),
                        "partial": P("welfare.tekun.care_per_month.partial"),
                        "self": P("welfare.tekun.care_per_month.self")}, label="照料护理")
excluded_assets = P("welfare.dibao.excluded_assets")
# the branches of the asset test, in the order they are checked; a "是" on one of them is the
# reason a household under the income line gets nothing (the service words its refusal from it)
ASSET_TESTS = ("家庭金融资产超过计入人数的规定月数低保标准", f"有{LABELS['vehicle']}",
               f"有{LABELS['housing']}", f"有{LABELS['business']}")


def _asset_test(pays):
    """0 when an asset test fails, `pays` otherwise; each failing test is a named branch."""
    out = If(business & Const("business").isin(excluded_assets), 0, pays, ASSET_TESTS[3])
    out = If((commercial_housing | (houses > P("welfare.dibao.max_houses"))) & Const("housing").isin(excluded_assets),
             0, out, ASSET_TESTS[2])
    out = If(vehicle & Const("vehicle").isin(excluded_assets), 0, out, ASSET_TESTS[1])
    return If(financial_assets > standard * P("welfare.dibao.asset_months") * members, 0, out, ASSET_TESTS[0])


left_this_year = Max(P("welfare.temporary.year_limit") - used_this_year, 0)

RULES = [
    Rule("welfare.dibao", "最低生活保障金", If(
        programme.eq("dibao"),
        _asset_test(dibao_gap + If(standard > income, dibao_extra, 0, "月人均收入低于低保标准")), 0, "低保"), date,
        "（低保标准 − 家庭月人均收入）× 计入人数，另加分类施保；家庭财产超过规定的不予保障"),
    Rule("welfare.tekun", "特困人员救助供养金", If(
        programme.eq("tekun"),
        If(category.eq("centralised"), P("welfare.tekun.centralised_per_month"),
           P("welfare.tekun.dispersed_per_month"), "集中供养") + care, 0, "特困供养"), date,
        "集中或分散供养标准，另加照料护理补贴"),
    Rule("welfare.temporary", "临时救助金", If(
        programme.eq("temporary"),
        Min(_by(category, {"illness": P("welfare.temporary.amount.illness"),
                           "disaster": P("welfare.temporary.amount.disaster"),
                           "accident": P("welfare.temporary.amount.accident")}, label="事由"),
            left_this_year), 0, "临时救助"), date, "按事由的救助额，不超过本年剩余限额"),
    Rule("welfare.disability_nursing", "重度残疾人护理补贴", If(
        programme.eq("disability_nursing"),
        _by(category, {"grade1": P("welfare.disability.nursing_per_month.grade1"),
                       "grade2": P("welfare.disability.nursing_per_month.grade2")}, label="残疾等级"),
        0, "重度残疾人护理补贴"), date),
    Rule("welfare.disability_living", "困难残疾人生活补贴", If(
        programme.eq("disability_living"), P("welfare.disability.living_per_month"), 0, "困难残疾人生活补贴"), date),
    Rule("welfare.fp_reward", "计划生育奖励扶助金", If(
        programme.eq("fp_reward"), P("welfare.family_planning.reward_per_month"), 0, "奖励扶助"), date),
    Rule("welfare.fp_special", "计划生育特别扶助金", If(
        programme.eq("fp_special"),
        If(category.eq("death"), P("welfare.family_planning.special_per_month.death"),
           P("welfare.family_planning.special_per_month.disabled"), "独生子女死亡家庭"), 0, "特别扶助"), date),
]

MODEL = Model("welfare", RULES, region)
RULE_OF = {p: f"welfare.{p}" for p in PROGRAMMES}
