"""Every demo role, on a 390 px phone, through its home page and every page of its navigation:
nothing wider than the phone, no refusal, and no developer's code on the screen (issue 13 §4, §5)."""
import re

import pytest

from .test_browser import browser, phone, sign_in  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser

# What a user must never read: the developers' codes for things that have Chinese names.
CODES = [
    (r"\b(food|clothing|housing|water|medical|compulsory_education|basic_medical|safe_housing|drinking_water)\b",
     "两不愁三保障的英文代码"),
    (r"\b(start|application|approve|reject)\b", "流程步骤代码"),
    (r"\b\d{4}-(spring|autumn)\b", "学期代码"),
    (r"\b(cn|sc|gs|hb|hn)-[a-z0-9-]+\b|\bshili-\d+\b", "政策包名"),
    (r"SPEC\s*§?|§", "规格书引用"),
    (r"\d{4,}\s*分(?![类析配钟户])", "以分计的金额"),
    # ‰ is the unit of mortality and birth rates (婴儿死亡率 ≤12‰); 100‰ or more is a share kept in
    # permille and shown in the storage's unit instead of as a percentage
    (r"\d{3,}(\.\d+)?\s*‰", "千分率"),
    (r"\buser \d+\b", "用户编号"),
    (r"\b[a-z]+\.[a-z_]+(\.[a-z_]+)*\b", "权益代码"),
    (r"\b[a-z]+_[a-z_]+\b", "下划线代码"),
]


def internal_codes(text: str) -> list[str]:
    found = []
    for pattern, what in CODES:
        for m in re.finditer(pattern, text):
            found.append(f"{what}: {text[max(0, m.start() - 20):m.end() + 20]!r}")
    return found


def test_the_regex_list_catches_each_kind_of_code_and_spares_plain_chinese():
    assert len(internal_codes("food 2026-autumn sc-513435 SPEC §4 200000 分 950‰ user 13 education.living "
                              "village_review start")) == 10
    assert internal_codes("两不愁三保障：吃穿不愁 2026年秋季 凉山州医疗保障政策 2,000.00 元 0.3% 阿明慧 评分 85 分 "
                          "婴儿死亡率 7.76‰（≤12‰）") == []


@pytest.fixture
def demo_world(db, settings, later_years_of_plain_weeks):
    """The demo county at a small size: every role's account, schools, hospitals, pairs, workflows (whose
    deadlines may reach a year not yet entered: conftest.later_years_of_plain_weeks).
    (Its department lists are left out: linking them takes half a minute; test_plain covers their names.)"""
    from fupin.demo import generator

    settings.DEMO = True
    county = generator.generate(240, households=80, min_villages=4)
    generator.seed_database(county)
    generator.seed_demo_users(county)
    generator.seed_demo_extras(county)
    return county


def test_every_demo_role_on_a_phone_sees_plain_chinese_that_fits(live_server, demo_world, browser):  # noqa: F811
    from fupin.demo import generator
    from fupin.pairing.models import Pair
    from fupin.workflows.models import Notice

    from django.db.models import Count

    from fupin.workflows.models import Instance

    # besides the navigation: the pages the issue found too wide, where the role may open them, and
    # the household whose workflow has gone furthest (its timeline names every step it took)
    household = Pair.objects.order_by("id").first().household_id
    furthest = Instance.objects.annotate(n=Count("actions")).order_by("-n", "id").first()
    assert furthest.n >= 3
    extra = ["/pairing/compliance/", "/pairing/pairs/", "/pairing/team/", f"/households/{household}/",
             f"/households/{furthest.household_id}/"]
    notice = Notice.objects.order_by("id").first()
    if notice:
        extra += [f"/workflows/notices/{notice.pk}/", f"/public/notices/{notice.token}/"]
    problems = []
    seen_roles = set()
    for username, _, role, _ in generator.demo_users(demo_world):
        if role in seen_roles:   # the city and province inspectors see what the county one sees, wider
            continue
        seen_roles.add(role)
        ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                  locale="zh-CN")
        page = ctx.new_page()
        page.set_default_timeout(15000)
        sign_in(page, live_server.url, username, generator.DEMO_PASSWORD)
        home = page.url
        links = [home] + [live_server.url + h for h in page.eval_on_selector_all(
            "header nav a", "els => els.map(e => e.getAttribute('href'))")]
        for url in dict.fromkeys(links + [live_server.url + e for e in extra]):
            response = page.goto(url, wait_until="domcontentloaded")
            where = f"{username} {url[len(live_server.url):]}"
            if response.status != 200:
                if url in links:   # a page of its own navigation must open
                    problems.append(f"{where}: HTTP {response.status}")
                continue
            width = page.evaluate("document.body.scrollWidth")
            if width > 390:
                problems.append(f"{where}: {width} px wide")
            problems += [f"{where}: {p}" for p in internal_codes(page.inner_text("body"))]
        ctx.close()
    assert problems == [], "\n".join(problems)
