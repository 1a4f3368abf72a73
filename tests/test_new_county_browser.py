"""Issue #18's "done when": a new county is set up from empty through screens and imports alone.
The database holds only the county's region tree and its administrator. On a phone the
administrator opens an account for the county office; the office imports the households, the
pairing units and helpers, the pairings, the schools and the labour records from Excel files,
forms a work team, opens a course (enrolment, attendance, completion) and records a college
student with a loan. The household page and the four cards then show the labour, training and
college figures."""
import datetime as dt
import io
import subprocess

import pytest
from django.utils import timezone

from .conftest import PASSWORD, pid, totp_code, totp_device
from .test_browser import CHROMIUM, _watch_csp, browser, phone, sign_in  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser
COUNTY, TOWN, VILLAGE, VILLAGE2 = "513435000000", "513435100000", "513435100200", "513435100201"


@pytest.fixture
def empty_county(db):
    """Only the region tree (as the national region code list gives it) and the county administrator."""
    from fupin.core.models import Region, User

    for code, name, level, parent in [("510000000000", "四川省", 1, None), ("513400000000", "凉山州", 2, "510000000000"),
                                      (COUNTY, "甘洛县", 3, "513400000000"), (TOWN, "新市坝镇", 4, COUNTY),
                                      (VILLAGE, "桃源村", 5, TOWN), (VILLAGE2, "红星村", 5, TOWN)]:
        Region.objects.create(code=code, name=name, level=level, parent_id=parent)
    admin = User(username="county_admin", role="county_admin", region_id=COUNTY, password_changed_at=timezone.now())
    admin.set_password(PASSWORD)
    admin.save()
    return admin


def _xlsx(rows: list[list]) -> dict:
    from openpyxl import Workbook

    wb = Workbook()
    for r in rows:
        wb.active.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return {"name": "list.xlsx", "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "buffer": buf.getvalue()}


def _fits(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, page.url


def test_a_new_county_is_set_up_from_empty_through_screens_and_imports(live_server, empty_county, browser, phone):  # noqa: F811
    from fupin.core.models import User
    from fupin.registry.models import Household

    base = live_server.url
    today = timezone.localdate()
    year = today.year
    head_id, wife_id, son_id = pid("1975-03-01", 11), pid("1977-06-02", 22), pid(f"{year - 19}-09-09", 31)
    widow_id = pid("1950-01-15", 42)

    # 1. The administrator opens an account for the county poverty office; its password shows once.
    sign_in(phone, base, "county_admin")
    phone.goto(f"{base}/account/users/")
    phone.fill("input[name=username]", "xfpb01")
    phone.fill("input[name=full_name]", "杨主任")
    phone.select_option("form >> select[name=role][required]", "county_officer")
    phone.select_option("select[name=region][required]", COUNTY)
    phone.click("button:has-text('创建')")
    one_time = phone.inner_text("#one-time-password")
    _fits(phone)

    # 2. The officer signs in on a phone of her own: the authenticator's code, then a new password.
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="zh-CN")
    page = ctx.new_page()
    page.set_default_timeout(10000)
    blocked = _watch_csp(page)
    officer = User.objects.get(username="xfpb01")
    totp_device(officer)
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", "xfpb01")
    page.fill("input[name=password]", one_time)
    page.click("button[type=submit]")
    page.wait_for_url("**/account/otp/**")
    page.fill("input[name=code]", totp_code(officer))
    page.click("form.card button[type=submit]")
    page.wait_for_url("**/password/**")
    page.fill("input[name=old]", one_time)
    page.fill("input[name=new]", PASSWORD)
    page.fill("input[name=new2]", PASSWORD)
    page.click("button:has-text('保存')")
    page.wait_for_load_state()

    # 3. The households, from the national system's Excel export (new households come in as 待识别;
    #    their identification is a workflow of its own, not part of setting a county up).
    hh = ["户编号", "村代码", "贫困户属性", "主要致贫原因", "户状态", "姓名", "证件号码", "与户主关系", "劳动技能"]
    page.goto(f"{base}/exchange/")
    page.set_input_files("input[name=file]", _xlsx([hh,
        ["GL001", VILLAGE, "一般贫困户", "因学", "待识别", "吉克阿木", head_id, "户主", "普通劳动力"],
        ["GL001", VILLAGE, "一般贫困户", "因学", "待识别", "阿西莫", wife_id, "配偶", "普通劳动力"],
        ["GL001", VILLAGE, "一般贫困户", "因学", "待识别", "吉克小明", son_id, "子女", "普通劳动力"],
        ["GL002", VILLAGE2, "低保贫困户", "因病", "待识别", "沙马依", widow_id, "户主", "无劳动力"]]))
    page.click("button[type=submit]:has-text('导入')")
    page.wait_for_load_state()
    assert sorted(Household.objects.values_list("number", "persons__name")) == [
        ("GL001", "吉克小明"), ("GL001", "吉克阿木"), ("GL001", "阿西莫"), ("GL002", "沙马依")]
    h = Household.objects.get(number="GL001")

    # 4. Pairing units and helpers from the units' list; a work team; the pairings from a list.
    page.goto(f"{base}/pairing/admin/")
    page.set_input_files("input[name=file][aria-label='Excel 文件']", _xlsx([
        ["单位", "姓名", "职务", "类别", "免于结对原因"],
        ["县林业局", "林局长", "局长", "领导干部", ""], ["县教育局", "教干部", "科员", "一般干部", ""],
        ["县教育局", "老会计", "会计", "免于结对", "临近退休"]]))
    page.click("button:has-text('导入')")
    page.wait_for_selector("#helpers >> text=老会计")
    _fits(page)
    page.goto(f"{base}/pairing/admin/teams/")
    page.fill("input[aria-label=工作队名称]", "县林业局驻桃源村工作队")
    page.select_option("select[name=village]", VILLAGE)
    page.click("text=组建工作队")
    page.fill("input[aria-label=队员姓名]", "队员甲")
    page.click("text=增加队员")
    page.wait_for_selector("text=队员甲")
    page.goto(f"{base}/pairing/pairs/")
    page.set_input_files("input[type=file]", _xlsx([["单位", "帮扶责任人", "户编号"],
                                                    ["县林业局", "林局长", "GL001"], ["县教育局", "教干部", "GL002"]]))
    page.fill("form:has(input[type=file]) >> input[name=start]", f"{today - dt.timedelta(days=30):%Y-%m-%d}")
    page.click("form:has(input[type=file]) >> button:has-text('导入')")
    page.wait_for_selector("text=已按名单结对 2 户")
    assert page.inner_text("main").count("GL00") == 2, page.inner_text("main")

    # 5. The schools, from the education bureau's register.
    page.goto(f"{base}/schools/")
    page.set_input_files("#import-form input[name=file]", _xlsx([["学校代码", "学校名称", "学校类型", "所在村代码"],
                                                                  ["2151000001", "桃源村小学", "小学", VILLAGE]]))
    page.click("#import-form button")
    page.wait_for_load_state()
    page.goto(f"{base}/schools/")
    assert "桃源村小学" in page.inner_text("main")

    # 6. A course: opened, the husband enrolled, present at all three sessions, completed with a certificate.
    start, end = today - dt.timedelta(days=20), today - dt.timedelta(days=18)
    page.goto(f"{base}/labour/courses/")
    page.fill("input[name=name]", "雨露计划电工班")
    page.fill("input[name=provider]", "县职教中心")
    page.fill("input[name=start]", f"{start:%Y-%m-%d}")
    page.fill("input[name=end]", f"{end:%Y-%m-%d}")
    page.fill("input[name=sessions]", "3")
    page.click("button:has-text('开设')")
    page.wait_for_selector("h1:has-text('雨露计划电工班')")
    page.fill("input[name=id_number]", head_id)
    page.click("button:has-text('报名')")
    page.wait_for_selector("#enrolments >> text=0 / 3")
    for day in range(3):   # the pack pays and certifies only a trainee present at every session
        page.check("input[name=present]")
        page.fill("form:has(input[name=present]) >> input[name=date]", f"{start + dt.timedelta(days=day):%Y-%m-%d}")
        page.click("button:has-text('登记当天出勤')")
        page.wait_for_selector(f"#enrolments >> text={day + 1} / 3")
    page.fill("input[name=certificate]", "DG-2026-01")
    page.click("button:has-text('结业')")
    page.wait_for_load_state()
    _fits(page)

    # 7. The labour records of the year, from the village's Excel list.
    page.goto(f"{base}/labour/?year={year}")
    page.set_input_files("form[action='/labour/import/'] input[name=file]", _xlsx([
        ["身份证号", "姓名", "劳动能力", "技能特长", "就业情况", "就业单位或地点", "务工月数", "月收入（元）"],
        [head_id, "吉克阿木", "全劳力", "电工", "省外务工", "广东某电子厂", 10, "4500"],
        [wife_id, "阿西莫", "半劳力", "", "县内务工", "县城餐馆", 6, "2000"]]))
    page.click("form[action='/labour/import/'] button")
    page.wait_for_selector(f"text=已导入 {year} 年劳动力信息 2 人")

    # 8. The son at a vocational college, with a student-origin credit loan.
    page.goto(f"{base}/education/college/")
    page.fill("input[name=id_number]", son_id)
    page.fill("input[name=college]", "四川职业技术学院")
    page.select_option("form[method=post] >> select[name=level]", "higher_voc")
    page.fill("input[name=entry_year]", str(year))
    page.click("button:has-text('登记')")
    page.wait_for_load_state()
    page.wait_for_url("**/education/college/*/")
    page.select_option("select[name=kind]", "credit_loan")
    page.fill("input[name=year]", str(year))
    page.fill("input[name=amount]", "8000")
    page.click("button:has-text('登记资助')")
    page.wait_for_selector("text=生源地信用助学贷款")
    _fits(page)

    # The household page: labour, training and college figures.
    page.goto(f"{base}/households/{h.pk}/")
    assert page.inner_text("#labour p >> nth=0") == f"{year} 年劳动力：2 人登记，2 人就业，全年务工收入 57,000.00 元"
    assert page.inner_text("#labour li") == "吉克阿木 · 雨露计划电工班：出勤 3 / 3 · 已结业（证书 DG-2026-01）"
    assert " ".join(page.inner_text("#college li").split()) == (
        f"吉克小明 · 四川职业技术学院 高职（专科） {year} 级 · 在读 · {year} 学年生源地信用助学贷款 8,000.00 元")
    _fits(page)

    # The four cards (PDF): the same figures on the income card.
    pdf = page.request.get(f"{base}/pairing/cards/{h.pk}.pdf").body()
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    assert "帮扶责任人：林局长（县林业局）" in text
    assert f"{year}年劳动力 2 人，就业 2 人，务工收入 57000.00 元" in text
    assert "培训：吉克阿木 雨露计划电工班 出勤 3/3，已结业（证书 DG-2026-01）" in text
    assert f"大学生：吉克小明 四川职业技术学院 高职（专科） {year}级 在读" in text
    assert f"{year}学年生源地信用助学贷款 8000.00 元" in text
    ctx.close()
    assert blocked == []
