"""Exit of a poor village as a whole (贫困村退出): the criteria come from the pack
(`village.exit.*`); this module only compares a village's facts with them and says why, in
plain Chinese. No Django here: the villages room gathers the facts (one village, or every
village of a region with one grouped query) and calls `exit_check` for each, so a single
check and the batch give the same answer by construction."""
from __future__ import annotations

import datetime as dt

from fupin.policy.errors import PolicyError
from fupin.policy.money import yuan
from fupin.policy.packs import RATIO_SCALE, Chain

# What each requirement word of `village.exit.requirements` means, and which fact answers it.
# (Names, not thresholds: which of them apply, and from when, is pack data.)
REQUIREMENTS = {
    "collective_income": "有村集体经济收入",
    "road_hardened": "通村道路已硬化",
    "piped_water": "通安全饮水（自来水）",
    "electricity": "通动力电",
    "broadband": "通宽带网络",
    "clinic": "有标准化村卫生室",
    "culture_room": "有村文化室",
}


def _percent(millionths: int) -> str:
    """12345 millionths → '1.23%' (rounded half up to hundredths of a percent)."""
    hundredths = (millionths + 50) // 100
    whole, frac = divmod(hundredths, 100)
    return f"{whole}.{frac:02d}%".replace(".00%", "%")


def poor_statuses(chain: Chain, on: dt.date) -> list[str]:
    """Household statuses whose members count as not yet out of poverty (the numerator)."""
    return list(chain.lookup("village.exit.poor_statuses", on).value)


def exit_check(chain: Chain, facts: dict, on: dt.date) -> dict:
    """Whether a village meets the exit criteria in force on `on`.

    facts: population (registered persons), poor_persons (members of households in a poor
    status), collective_income (fen, the year's collective economy income, None if not
    recorded) and one boolean per requirement word.
    Returns {"eligible", "items": [{"key", "label", "met", "explain"}], "explanation", "sources"}."""
    items, sources = [], {}

    def p(name):
        v = chain.lookup(name, on)
        sources[name] = v.source
        return v.value

    max_rate = p("village.exit.max_incidence")           # millionths
    population, poor = int(facts.get("population") or 0), int(facts.get("poor_persons") or 0)
    limit = _percent(max_rate)
    if population <= 0:
        items.append({"key": "incidence", "label": f"贫困发生率低于{limit}", "met": False,
                      "explain": "户籍人口未登记，无法计算贫困发生率；请先在村档案中填写户籍人口"})
    else:
        rate = (poor * RATIO_SCALE * 2 + population) // (2 * population)  # millionths, rounded half up
        met = poor * RATIO_SCALE < max_rate * population                  # exact: no rounding in the test
        items.append({"key": "incidence", "label": f"贫困发生率低于{limit}", "met": met,
                      "explain": f"贫困发生率 {_percent(rate)}（未脱贫 {poor} 人 ÷ 户籍人口 {population} 人），"
                                 f"应低于 {limit}：{'达到' if met else '未达到'}"})
    for word in p("village.exit.requirements"):
        label = REQUIREMENTS.get(word)
        if label is None:
            raise PolicyError(f"政策包参数 village.exit.requirements 中的“{word}”不是可用的条件；"
                              f"可用：{'、'.join(REQUIREMENTS)}")
        if word == "collective_income":
            above = p("village.exit.collective_income_above")
            income = facts.get("collective_income")
            if income is None:
                met, why = False, "本年度村集体经济收入未登记"
            else:
                met = income > above
                why = f"本年度村集体经济收入 {yuan(income)} 元，应高于 {yuan(above)} 元"
            items.append({"key": word, "label": label, "met": met, "explain": f"{why}：{'达到' if met else '未达到'}"})
        else:
            met = bool(facts.get(word))
            items.append({"key": word, "label": label, "met": met, "explain": f"{label}：{'是' if met else '否'}"})
    missing = [i["label"] for i in items if not i["met"]]
    eligible = not missing
    explanation = ("全部退出条件均已达到，可以按程序申请整村退出" if eligible
                   else f"尚不具备整村退出条件：{'；'.join(missing)} 未达到")
    return {"eligible": eligible, "items": items, "explanation": explanation, "sources": sources}
