"""Department lists, linkage, doubt lists and early warnings (issue 14)."""
from __future__ import annotations

import datetime as dt

import pytest

from fupin.core import idcard
from fupin.core.errors import AccessDenied, FupinError
from fupin.core.models import AuditEvent
from fupin.monitoring import linkage, services
from fupin.monitoring.linkage import Record
from fupin.monitoring.models import Batch, Link, ListRow, ReviewMemory, Warning
from fupin.policy import calendar
from fupin.workflows.models import Instance

from .conftest import V1, pid

# warnings become workflows, whose deadlines count working days from today (conftest.on_a_covered_day)
pytestmark = pytest.mark.usefixtures("on_a_covered_day")

HEAD = "姓名,公民身份号码,性别,出生日期,住址"


def csv(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode("utf-8")


def imp(user, kind, data, name="list.csv", source="县民政局", as_of=dt.date(2026, 11, 1)):
    return services.batch_import(actor=user, kind=kind, source=source, as_of=as_of, data=data, filename=name)


def nothing_written():
    return (Batch.objects.count(), ListRow.objects.count(), Link.objects.count(), Warning.objects.count()) == (0, 0, 0, 0)


# ---- import ---------------------------------------------------------------------------------------

def test_bad_cells_each_get_a_chinese_message_and_nothing_is_written(world):
    data = csv(HEAD + ",死亡日期",
               "张三,12345,男,1970-05-01,桃源村,2026-01-05",
               "李四,,未知,1972-13-02,桃源村,",
               "王五,,男,,,2026-01-01",
               "赵七,5.13435E+17,男,1990-02-02,红星村,2026-02-01")
    report = imp(world.users["county_officer"], "deaths", data)
    assert [str(p) for p in report.problems] == [
        "第2行B列（公民身份号码）：“12345”不是身份证号：应为18位（或15位旧号），前17位为数字，最后一位为数字或X；"
        "无法确认的请留空，系统按姓名、出生日期、住址比对",
        "第3行C列（性别）：性别“未知”应填“男”或“女”",
        "第3行D列（出生日期）：日期“1972-13-02”不存在",
        "第3行F列（死亡日期）：必填项为空",
        "第4行B列（公民身份号码）：公民身份号码和出生日期至少填一项，否则无法比对；请补上其中一项",
        "第5行B列（公民身份号码）：“5.13435E+17”不是身份证号：应为18位（或15位旧号），前17位为数字，最后一位为数字或X；"
        "无法确认的请留空，系统按姓名、出生日期、住址比对",
    ]
    assert report.error_workbook[:2] == b"PK" and report.batch is None
    assert nothing_written()


def test_a_file_missing_the_required_columns_is_refused_whole(world):
    report = imp(world.users["county_officer"], "deaths", csv(HEAD, "张三,,男,1970-05-01,桃源村"))
    assert [str(p) for p in report.problems] == [
        "这不是本系统的导入模板：工作表“list.csv”缺少必需的列 死亡日期。请从“下载模板”获取模板，把数据粘贴进去后再导入"]
    assert nothing_written()


def test_reimporting_the_same_file_makes_nothing_new(world):
    data = csv(HEAD + ",死亡日期", f"张三,{pid('1970-05-01', 11)},男,1970-05-01,新市坝镇桃源村,2026-10-01")
    user = world.users["county_officer"]
    first = imp(user, "deaths", data)
    assert first.created and first.batch.rows == 1
    services.batch_link(actor=user, batch_id=first.batch.pk)
    counts = (Batch.objects.count(), ListRow.objects.count(), Link.objects.count(), Warning.objects.count())
    again = imp(user, "deaths", data, name="again.csv")
    assert not again.created and again.batch.pk == first.batch.pk and again.ok
    services.batch_link(actor=user, batch_id=first.batch.pk)
    assert (Batch.objects.count(), ListRow.objects.count(), Link.objects.count(), Warning.objects.count()) == counts == (1, 1, 1, 1)


# ---- linkage ---------------------------------------------------------------------------------------

def test_exact_id_links_and_a_deceased_person_still_registered_is_a_warning(world):
    user = world.users["county_officer"]
    batch = imp(user, "deaths", csv(HEAD + ",死亡日期",
                                    f"张三,{pid('1970-05-01', 11)},男,1970-05-01,新市坝镇桃源村,2026-10-01")).batch
    services.batch_link(actor=user, batch_id=batch.pk)
    link = Link.objects.get()
    zhang = world.h1.persons.get(name="张三")
    assert (link.person_id, link.probability, link.band, link.method) == (zhang.pk, 1.0, "auto", "id")
    w = Warning.objects.get()
    today = services.today()
    assert (w.rule, w.group, w.village_id, w.household_id, w.person_id, w.batch_id, w.state) == \
        ("deceased", "should_not", V1, world.h1.pk, zhang.pk, batch.pk, "open")
    assert w.due == calendar.add_working_days(today, 10)
    assert w.evidence == [
        f"死亡人员名单（县民政局，数据日期 2026-11-01）第2行：张三 {idcard.mask(pid('1970-05-01', 11))}",
        "部门记录 2026-10-01 死亡，户籍中仍为在世（户 H1，贫困户）"]


def test_probabilistic_linkage_on_a_small_labelled_set():
    reg = [Record("P1", "张三", pid("1970-05-01", 11), "M", "1970-05-01", "新市坝镇桃源村"),
           Record("P2", "李四", pid("1972-03-02", 22), "F", "1972-03-02", "新市坝镇桃源村"),
           Record("P3", "王伟", pid("1980-01-01", 13), "M", "1980-01-01", "田坝镇团结村"),
           Record("P4", "王伟", pid("1985-06-06", 15), "M", "1985-06-06", "新市坝镇红星村"),
           Record("P5", "刘秀英", pid("1950-02-03", 24), "F", "1950-02-03", "新市坝镇红星村"),
           Record("P6", "陈静", pid("1990-09-09", 26), "F", "1990-09-09", "田坝镇团结村")]
    li = pid("1972-03-02", 22)
    lst = [Record("A", "張 三", pid("1970-05-01", 11)[:6] + pid("1970-05-01", 11)[8:17], "男", "", "桃源村"),  # 繁体, space, 15-digit ID
           Record("B", "李四", li[:10] + li[11] + li[10] + li[12:], "女", "1972-03-02", "甘洛县新市坝镇桃源村"),  # two digits swapped
           Record("C", "王玮", "", "男", "1980-01-01", "田坝镇团结村3组"),        # homophone, no ID
           Record("D", "王伟", pid("1988-08-08", 17), "男", "1988-08-08", "新市坝镇红星村"),  # another 王伟
           Record("E", "刘秀英", "", "女", "1950-02-03", ""),                      # no ID, no address
           Record("F", "陈静", "", "女", "1990-09-19", "")]                        # no ID, birth mistyped
    pairs = linkage.link(lst, reg, auto=0.99, review=0.3)
    assert [(p.left, p.right, p.band, p.method) for p in pairs] == [
        ("A", "P1", "auto", "id"), ("B", "P2", "auto", "model"), ("C", "P3", "auto", "model"),
        ("E", "P5", "auto", "model"), ("F", "P6", "review", "model")]
    assert linkage.norm_id(pid("1970-05-01", 11)[:6] + pid("1970-05-01", 11)[8:17]) == (pid("1970-05-01", 11), True)
    assert linkage.norm_name(" 張　三 ") == "张三" and linkage.pinyin("王玮") == linkage.pinyin("王伟") == "wang wei"


def test_clerical_review_decision_is_remembered_for_the_next_batch(world):
    user = world.users["county_officer"]
    row = "赵七,,男,1990-02-12,"  # no ID, birth mistyped: a review-band pair with 赵七 (1990-02-02)
    b1 = imp(user, "dibao", csv(HEAD + ",纳入日期", row + ",2026-10-01")).batch
    services.batch_link(actor=user, batch_id=b1.pk)
    link = Link.objects.get()
    assert (link.band, link.decision, link.person.name) == ("review", "", "赵七")
    cadre = world.users["village_cadre"]  # 赵七 lives in 红星村 (V2): not the cadre's village
    with pytest.raises(FupinError):
        services.link_decide(actor=cadre, link_id=link.pk, decision="same")
    township = world.users["township_officer"]
    services.link_decide(actor=township, link_id=link.pk, decision="different")
    assert ReviewMemory.objects.get().decision == "different"
    b2 = imp(user, "dibao", csv(HEAD + ",纳入日期", row + ",2026-11-01"), as_of=dt.date(2026, 11, 2)).batch
    services.batch_link(actor=user, batch_id=b2.pk)
    again = Link.objects.get(row__batch=b2)
    assert (again.band, again.decision, again.remembered) == ("review", "different", True)
    assert Warning.objects.count() == 0


# ---- the CLI ----------------------------------------------------------------------------------------

def test_fupin_link_on_two_files(tmp_path, capsys, settings):
    from fupin.cli.main import main

    left, right, out = tmp_path / "left.csv", tmp_path / "right.csv", tmp_path / "matches.csv"
    z = pid("1970-05-01", 11)
    left.write_text(f"{HEAD},备注\n张三,{z},男,1970-05-01,新市坝镇桃源村3组,甲\n李四,,女,1972-03-02,新市坝镇桃源村,乙\n",
                    encoding="utf-8")
    right.write_text(f"{HEAD},电话\n張三,{z[:6]}{z[8:17]},男,,桃源村,139\n"
                     f"李四,{pid('1972-03-02', 22)},女,1972-03-02,甘洛县新市坝镇桃源村,138\n"
                     f"王伟,{pid('1980-01-01', 13)},男,1980-01-01,田坝镇,137\n", encoding="gbk")
    assert main(["link", str(left), str(right), "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip().endswith(f"候选配对 2 对：自动确认 2，人工复核 0，拒绝 0；已写入 {out}")
    assert out.read_text(encoding="utf-8-sig").splitlines() == [
        "左行号,右行号,匹配概率,分档,方式,左_姓名,左_公民身份号码,左_性别,左_出生日期,左_住址,左_备注,"
        "右_姓名,右_公民身份号码,右_性别,右_出生日期,右_住址,右_电话",
        f"2,2,1.000000,自动确认,身份证号一致,张三,{z},男,1970-05-01,新市坝镇桃源村3组,甲,張三,{z[:6]}{z[8:17]},男,,桃源村,139",
        f"3,3,1.000000,自动确认,概率匹配,李四,,女,1972-03-02,新市坝镇桃源村,乙,李四,{pid('1972-03-02', 22)},女,1972-03-02,"
        "甘洛县新市坝镇桃源村,138"]


def test_fupin_link_refuses_a_bad_file_and_writes_nothing(tmp_path, capsys):
    from fupin.cli.main import main

    left, right, out = tmp_path / "l.csv", tmp_path / "r.csv", tmp_path / "m.csv"
    left.write_text(f"{HEAD}\n张三,abc,男,1970-05-01,桃源村\n", encoding="utf-8")
    right.write_text(f"{HEAD}\n张三,,男,1970-05-01,桃源村\n", encoding="utf-8")
    assert main(["link", str(left), str(right), "--out", str(out)]) == 1
    assert capsys.readouterr().err.splitlines() == [
        "文件有错误，未做比对；请改正后重试：",
        "l.csv 第2行B列（公民身份号码）：“ABC”不是身份证号：应为18位（或15位旧号），前17位为数字，最后一位为数字或X；"
        "无法确认的请留空，系统按姓名、出生日期、住址比对"]
    assert not out.exists()


# ---- warnings to workflows -----------------------------------------------------------------------------

def _exited_h1_with_dibao_warning(world):
    world.h1.status = "exited"
    world.h1.save(update_fields=["status"])
    user = world.users["civil_affairs"]
    batch = imp(user, "dibao", csv(HEAD + ",纳入日期", f"张三,{pid('1970-05-01', 11)},男,1970-05-01,,2026-10-08")).batch
    services.batch_link(actor=user, batch_id=batch.pk)
    return Warning.objects.get()


def test_a_warning_is_taken_to_an_opened_monitoring_workflow(world):
    w = _exited_h1_with_dibao_warning(world)
    assert (w.rule, w.group, w.village_id, w.household_id) == ("new_assistance", "should_be", V1, world.h1.pk)
    assert w.evidence[1:] == ["低保对象名单中有此人（纳入日期：2026-10-08）", "户 H1 当前为“已脱贫”，未纳入监测"]
    cadre = world.users["village_cadre"]
    services.warning_start(actor=cadre, warning_id=w.pk, monitored_type="sudden")
    w.refresh_from_db()
    inst = Instance.objects.get()
    assert (inst.household_id, inst.kind, inst.channel, inst.monitored_type, inst.state) == \
        (world.h1.pk, "monitoring", "department", "sudden", "in_progress")
    assert (w.state, w.workflow_id, w.decided_by_id) == ("started", inst.pk, cadre.pk)
    assert inst.actions.get().evidence == w.evidence
    with pytest.raises(FupinError) as exc:
        services.warning_start(actor=cadre, warning_id=w.pk, monitored_type="sudden")
    assert exc.value.message == "该预警已发起监测，不能再处理"


def test_a_warning_dismissed_with_a_reason(world):
    w = _exited_h1_with_dibao_warning(world)
    with pytest.raises(FupinError) as exc:
        services.warning_dismiss(actor=world.users["village_cadre"], warning_id=w.pk, reason="")
    assert exc.value.message == "排除理由：请写明入户核实的情况和排除理由（至少4个字）"
    services.warning_dismiss(actor=world.users["village_cadre"], warning_id=w.pk, reason="入户核实：低保为临时救助，已到期")
    w.refresh_from_db()
    assert (w.state, w.reason) == ("dismissed", "入户核实：低保为临时救助，已到期")
    assert Instance.objects.count() == 0
    from fupin.monitoring import selectors

    county = world.users["county_officer"]
    assert selectors.counts(county) == {"open": 0, "overdue": 0, "started": 0, "dismissed": 1}
    assert selectors.response_days(county) == 0.0


# ---- refusals ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["school_aid", "village_cadre", "pairing_helper", "inspector"])
def test_import_refused_for_a_role_without_the_capability(world, role):
    data = csv(HEAD + ",死亡日期", f"张三,{pid('1970-05-01', 11)},男,1970-05-01,,2026-10-01")
    with pytest.raises(AccessDenied) as exc:
        imp(world.users[role], "deaths", data)
    assert exc.value.message == "您的角色没有“导入部门比对名单”权限，如需办理请联系县级管理员"
    assert nothing_written()
    assert AuditEvent.objects.filter(action="denied", object_id="monitor_import").count() == 1


@pytest.mark.parametrize("role", ["pairing_helper", "civil_affairs", "health_officer"])
def test_warning_actions_refused_for_a_role_without_the_capability(world, role):
    w = _exited_h1_with_dibao_warning(world)
    with pytest.raises(AccessDenied):
        services.warning_start(actor=world.users[role], warning_id=w.pk, monitored_type="sudden")
    with pytest.raises(AccessDenied):
        services.warning_dismiss(actor=world.users[role], warning_id=w.pk, reason="入户核实无此事")
    w.refresh_from_db()
    assert (w.state, w.workflow_id, w.reason) == ("open", None, "")
    assert Instance.objects.count() == 0


def test_a_village_cadre_of_another_village_cannot_see_the_warning(world):
    w = _exited_h1_with_dibao_warning(world)
    from fupin.core.models import User
    from fupin.core.roles import Role

    other = User.objects.create(username="cadre2", role=Role.VILLAGE_CADRE, region_id="513435100201")
    with pytest.raises(FupinError) as exc:
        services.warning_start(actor=other, warning_id=w.pk, monitored_type="sudden")
    assert exc.value.message == f"找不到预警 {w.pk}，或不在您的管辖范围内"
    assert Warning.objects.get().state == "open" and Instance.objects.count() == 0


# ---- pages ---------------------------------------------------------------------------------------------

def test_import_page_links_and_the_village_takes_the_warning_to_a_workflow(world, login, client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    world.h1.status = "exited"
    world.h1.save(update_fields=["status"])
    c = login("township_officer")
    data = csv(HEAD + ",纳入日期", f"张三,{pid('1970-05-01', 11)},男,1970-05-01,,2026-10-08")
    r = c.post("/monitoring/", {"kind": "dibao", "source": "县民政局", "as_of": "2026-11-01",
                                "file": SimpleUploadedFile("dibao.csv", data)})
    batch = Batch.objects.get()
    from fupin.jobs.models import Job

    job = Job.objects.get()   # imported and linked by a background job, whose page links the batch
    assert r.status_code == 302 and r["Location"] == f"/jobs/{job.pk}/"
    assert (job.status, job.message, job.link) == ("done", "已导入 1 行并完成比对", f"/monitoring/batches/{batch.pk}/")
    page = c.get(job.link).content.decode()
    assert "新增低保、特困或重度残疾，未纳入监测" in page and pid("1970-05-01", 11) not in page
    w = Warning.objects.get()
    c.logout()
    c = login("village_cadre")
    page = c.get("/monitoring/warnings/").content.decode()
    assert f'href="/monitoring/warnings/{w.pk}/"' in page
    r = c.post(f"/monitoring/warnings/{w.pk}/start/", {"monitored_type": "sudden", "comment": "入户核实属实"})
    assert r.status_code == 302 and r["Location"] == f"/households/{world.h1.pk}/"
    inst = Instance.objects.get()
    assert (inst.channel, inst.actions.get().comment) == ("department", "部门预警：新增低保、特困或重度残疾，未纳入监测。入户核实属实")
    page = c.get(f"/households/{world.h1.pk}/").content.decode()
    assert 'id="monitoring-warnings"' in page and f'href="/monitoring/warnings/{w.pk}/"' in page


def test_import_page_answers_bad_cells_with_the_list_and_an_error_workbook(world, login):
    from django.core.files.uploadedfile import SimpleUploadedFile

    c = login("township_officer")
    r = c.post("/monitoring/", {"kind": "deaths", "source": "县民政局", "as_of": "2026-11-01",
                                "file": SimpleUploadedFile("d.csv", csv(HEAD + ",死亡日期", "张三,,男,1970-05-01,,"))},
               follow=True)
    page = r.content.decode()
    assert r.status_code == 200 and "发现 1 处错误，未导入任何数据" in page and "第2行F列（死亡日期）：必填项为空" in page
    token = page.split("/monitoring/errors/")[1].split("/")[0]
    wb = c.get(f"/monitoring/errors/{token}/")
    assert wb.status_code == 200 and b"".join(wb.streaming_content)[:2] == b"PK"
    assert nothing_written()


def test_review_page_shows_both_records_masked_and_remembers_the_decision(world, login):
    user = world.users["county_officer"]
    batch = imp(user, "dibao", csv(HEAD + ",纳入日期", "赵七,,男,1990-02-12,,2026-10-01")).batch
    services.batch_link(actor=user, batch_id=batch.pk)
    link = Link.objects.get()
    c = login("township_officer")
    page = c.get("/monitoring/review/").content.decode()
    zhao = pid("1990-02-02", 71)
    assert f'id="link-{link.pk}"' in page and idcard.mask(zhao) in page and zhao not in page
    # beside masked IDs: the birth years and whether the dates agree, never the dates themselves
    assert "1990-02-02" not in page and "1990-02-12" not in page
    assert "两条记录出生日期相差 10 天" in page
    batch_page = login("county_officer").get(f"/monitoring/batches/{batch.pk}/").content.decode()
    assert "1990-02-12" not in batch_page and "1990年" in batch_page
    c = login("township_officer")
    r = c.post(f"/monitoring/review/{link.pk}/decide/", {"decision": "same"})
    assert r.status_code == 302
    link.refresh_from_db()
    assert link.decision == "same" and ReviewMemory.objects.get().decision == "same"
    # 赵七's household (H4) is registered, so a 低保 entry is not a "should be in" finding
    assert Warning.objects.count() == 0


@pytest.mark.parametrize("role", ["pairing_helper", "school_aid", "auditor"])
def test_pages_refused_for_roles_without_monitoring(world, login, role):
    c = login(role)
    assert c.get("/monitoring/").status_code == 403
    assert c.get("/monitoring/warnings/").status_code == 403
    assert c.get("/monitoring/review/").status_code == 403
    assert c.get("/monitoring/declarations/").status_code == 403


# ---- the other finding rules -----------------------------------------------------------------------------

def _linked(world, kind, header, line, as_of=dt.date(2026, 11, 1)):
    user = world.users["county_officer"]
    batch = imp(user, kind, csv(HEAD + "," + header, line), as_of=as_of).batch
    services.batch_link(actor=user, batch_id=batch.pk)
    return list(Warning.objects.filter(batch=batch))


def test_a_car_owner_in_a_registered_household_is_should_not_be_in(world):
    [w] = _linked(world, "vehicles", "号牌号码,车辆类型", f"李四,{pid('1972-03-02', 22)},女,,,川W12345,小型轿车")
    assert (w.rule, w.group, w.household_id) == ("exclusion", "should_not", world.h1.pk)
    assert w.evidence[1:] == ["户籍中：H1 贫困户，李四（配偶）", "属于不得纳入人员（机动车登记名单）：号牌号码：川W12345，车辆类型：小型轿车"]


def test_health_data_disagreeing_with_cause_and_health_is_inconsistent(world):
    world.h2.main_cause = "labour"
    world.h2.save(update_fields=["main_cause"])
    [w] = _linked(world, "diseases", "病种", f"王五,{pid('1965-01-15', 51)},男,,,尘肺病")
    assert (w.rule, w.group, w.village_id) == ("disease_inconsistent", "inconsistent", "513435101200")
    assert w.evidence[1:] == ["卫健部门记录患尘肺病，户 H2 致贫原因为“缺劳力”，未登记“因病”",
                              "卫健部门记录患尘肺病，王五 的健康状况登记为“健康”"]


def test_large_medical_self_payment_over_the_pack_line_only(world):
    world.h1.status = "eliminated"
    world.h1.save(update_fields=["status"])
    zhang = pid("1970-05-01", 11)
    assert _linked(world, "medical_payments", "年度,个人自付金额", f"张三,{zhang},男,,,2026,20000") == []
    [w] = _linked(world, "medical_payments", "年度,个人自付金额", f"张三,{zhang},男,,,2026,20000.01",
                  as_of=dt.date(2026, 11, 2))
    assert (w.rule, w.group) == ("large_medical", "should_be")
    assert w.evidence[1:] == ["2026年个人自付 20000.01 元，超过预警线 20000 元", "户 H1 当前为“风险已消除”，未纳入监测"]


def test_severe_disability_only_and_a_person_not_in_the_registry_goes_to_the_named_village(world):
    assert _linked(world, "disability", "残疾等级,村代码", "孙八,,男,1980-01-01,,3," + V1) == []
    [w] = _linked(world, "disability", "残疾等级,村代码", "孙八,,男,1980-01-01,,2," + V1, as_of=dt.date(2026, 11, 2))
    assert (w.rule, w.village_id, w.household_id, w.person_id) == ("new_assistance", V1, None, None)
    assert w.evidence[1:] == ["残疾人证名单中有此人（残疾等级：2）", "户籍中没有此人：请入户核实，符合条件的先登记再纳入监测"]
    with pytest.raises(FupinError) as exc:
        services.warning_start(actor=world.users["village_cadre"], warning_id=w.pk, monitored_type="sudden")
    assert exc.value.message == "此人不在户籍中：请先登记该户，再从户页面发起监测对象识别"


def test_township_and_county_see_overdue_warnings(world, login):
    w = _exited_h1_with_dibao_warning(world)
    Warning.objects.filter(pk=w.pk).update(due=services.today() - dt.timedelta(days=1))
    from fupin.monitoring import selectors

    for role in ("township_officer", "county_officer"):
        assert selectors.counts(world.users[role])["overdue"] == 1
    other_township = world.users["township_officer"].__class__.objects.create(
        username="t2", role="township_officer", region_id="513435101000")
    assert selectors.counts(other_township) == {"open": 0, "overdue": 0, "started": 0, "dismissed": 0}
    c = login("township_officer")
    page = c.get("/monitoring/warnings/?overdue=1").content.decode()
    assert f'href="/monitoring/warnings/{w.pk}/"' in page and "（已逾期）" in page


@pytest.mark.skipif(not __import__("os").environ.get("FUPIN_TEST_SPARK"),
                    reason="Spark is an optional extra (pyspark, Java 17); run with FUPIN_TEST_SPARK=1")
def test_spark_engine_gives_the_same_pairs_as_duckdb(tmp_path, capsys):
    pytest.importorskip("pyspark")
    from fupin.cli.main import main

    left, right = tmp_path / "left.csv", tmp_path / "right.csv"
    z, li = pid("1970-05-01", 11), pid("1972-03-02", 22)
    left.write_text(f"{HEAD}\n张三,{z},男,1970-05-01,新市坝镇桃源村\n李四,{li[:10]}{li[11]}{li[10]}{li[12:]},女,1972-03-02,桃源村\n"
                    f"王玮,,男,1980-01-01,田坝镇团结村3组\n陈静,,女,1990-09-19,\n", encoding="utf-8")
    right.write_text(f"{HEAD}\n張 三,{z[:6]}{z[8:17]},男,,桃源村\n李四,{li},女,1972-03-02,甘洛县新市坝镇桃源村\n"
                     f"王伟,{pid('1980-01-01', 13)},男,1980-01-01,田坝镇团结村\n王伟,{pid('1985-06-06', 15)},男,1985-06-06,红星村\n"
                     f"陈静,{pid('1990-09-09', 26)},女,1990-09-09,田坝镇团结村\n", encoding="utf-8")
    outs = {}
    for engine in ("duckdb", "spark"):
        outs[engine] = tmp_path / f"{engine}.csv"
        assert main(["link", str(left), str(right), "--out", str(outs[engine]), "--engine", engine]) == 0
    duck = outs["duckdb"].read_text(encoding="utf-8-sig").splitlines()
    assert [line.split(",")[:5] for line in duck[1:]] == [
        ["2", "2", "1.000000", "自动确认", "身份证号一致"], ["3", "3", "1.000000", "自动确认", "概率匹配"],
        ["4", "4", "1.000000", "自动确认", "概率匹配"], ["5", "6", duck[4].split(",")[2], "人工复核", "概率匹配"]]
    assert outs["spark"].read_text(encoding="utf-8-sig").splitlines() == duck


# ---- end to end in a browser -------------------------------------------------------------------------------

@pytest.mark.browser
def test_browser_one_warning_from_import_to_an_opened_monitoring_workflow(live_server, world, tmp_path):
    pytest.importorskip("playwright")
    from .test_browser import CHROMIUM, sign_in

    from playwright.sync_api import sync_playwright

    world.h1.status = "exited"
    world.h1.save(update_fields=["status"])
    f = tmp_path / "低保新增.csv"
    f.write_bytes(csv(HEAD + ",纳入日期", f"张三,{pid('1970-05-01', 11)},男,1970-05-01,,2026-10-08"))
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = b.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN").new_page()
            page.set_default_timeout(30000)
            sign_in(page, live_server.url, "township_officer")
            page.goto(f"{live_server.url}/monitoring/")
            page.select_option("select[name=kind]", "dibao")
            page.fill("input[name=source]", "县民政局")
            page.fill("input[name=as_of]", "2026-11-01")
            page.set_input_files("input[name=file]", str(f))
            page.click("#import button")
            page.wait_for_url("**/jobs/*/")
            page.click("text=查看结果")
            page.wait_for_url("**/monitoring/batches/*/")
            assert "新增低保、特困或重度残疾，未纳入监测" in page.inner_text("#batch-warnings")
            page.context.clear_cookies()

            sign_in(page, live_server.url, "village_cadre")
            page.goto(f"{live_server.url}/monitoring/warnings/")
            page.click("#warnings tbody a")
            assert "户 H1 当前为“已脱贫”，未纳入监测" in page.inner_text("#evidence")
            page.select_option("select[name=monitored_type]", "sudden")
            page.fill("#start input[name=comment]", "入户核实属实")
            page.click("#start button")
            page.wait_for_url(f"**/households/{world.h1.pk}/")
            assert "监测对象识别" in page.inner_text("#workflows")
        finally:
            b.close()
    inst = Instance.objects.get()
    assert (inst.household_id, inst.kind, inst.channel) == (world.h1.pk, "monitoring", "department")
    assert Warning.objects.get().state == "started"


def test_dashboard_counts_per_kind_village_and_month_each_linking_to_its_list(world, login):
    from fupin.monitoring import selectors

    w = _exited_h1_with_dibao_warning(world)
    month = w.created_on.strftime("%Y-%m")
    county = world.users["county_officer"]
    assert selectors.dashboard(county) == [{"rule": "new_assistance", "label": "新增低保、特困或重度残疾，未纳入监测",
                                            "village_id": V1, "village__name": "桃源村",
                                            "village__parent__name": "新市坝镇", "month": month, "total": 1, "open": 1}]
    assert list(selectors.queue(county, state="", rule="new_assistance", village=V1, month=month)) == [w]
    assert selectors.queue(county, state="", month="2020-01").count() == 0
    c = login("county_officer")
    link = f"/monitoring/warnings/?state=all&rule=new_assistance&village={V1}&month={month}"
    page = c.get("/monitoring/").content.decode()
    assert f'<a href="{link}">1</a>' in page and "<td>新市坝镇 桃源村</td>" in page   # two villages may share a name
    assert f'href="/monitoring/warnings/{w.pk}/"' in c.get(link).content.decode()


# ---- self-declaration --------------------------------------------------------------------------------------

def test_a_resident_declares_on_the_public_page_and_the_township_accepts_into_a_workflow(world, client):
    from fupin.monitoring.models import Declaration

    world.h1.status = "exited"
    world.h1.save(update_fields=["status"])
    r = client.post("/monitoring/declare/", {"name": "张三", "id_number": pid("1970-05-01", 11), "phone": "13800000000",
                                             "village": V1, "difficulty": "妻子住院，花费很大"})
    assert r.status_code == 200 and 'id="done"' in r.content.decode()
    d = Declaration.objects.get()
    today = services.today()
    assert (d.via, d.state, d.accept_due) == ("web", "open", calendar.add_working_days(today, 2))
    with pytest.raises(FupinError) as exc:
        services.declaration_accept(actor=world.users["village_cadre"], declaration_id=d.pk, monitored_type="sudden")
    assert exc.value.message == "困难申报由乡镇受理；请联系乡镇工作人员"
    services.declaration_accept(actor=world.users["township_officer"], declaration_id=d.pk, monitored_type="sudden")
    d.refresh_from_db()
    inst = Instance.objects.get()
    assert (d.state, d.workflow_id, inst.household_id, inst.channel) == ("accepted", inst.pk, world.h1.pk, "self")


def test_declaration_answers_every_bad_field_in_chinese_and_writes_nothing(world, client):
    from fupin.monitoring.models import Declaration

    r = client.post("/monitoring/declare/", {"name": "", "id_number": "12345", "phone": "1", "village": "", "difficulty": "难"})
    assert r.status_code == 400
    with pytest.raises(FupinError) as exc:
        services.declaration_lodge(name="", id_number="12345", phone="1", village_code="", difficulty="难")
    assert exc.value.message == ("姓名：请填写申报人姓名；公民身份号码：身份证号应为18位，实际为5位；请核对后重新填写；"
                                 "联系电话：请填写11位手机号或带区号的固定电话，便于村里联系核实；村：请选择所在的村；"
                                 "困难情况：请简要写明遇到的困难（如 因病住院、因灾房屋受损、失业），至少4个字")
    assert Declaration.objects.count() == 0


def test_anonymous_declarations_are_throttled_per_address(world, settings):
    from fupin.monitoring.models import Declaration

    settings.OBJECTION_IP_MAX_PER_HOUR = 2
    for _ in range(2):
        services.declaration_lodge(name="王五", id_number=pid("1965-01-15", 51), phone="13800000000",
                                   village_code="513435101200", difficulty="房屋被洪水冲毁", ip="10.0.0.9")
    with pytest.raises(FupinError) as exc:
        services.declaration_lodge(name="王五", id_number=pid("1965-01-15", 51), phone="13800000000",
                                   village_code="513435101200", difficulty="房屋被洪水冲毁", ip="10.0.0.9")
    assert exc.value.message == "同一网络地址每小时最多提交 2 条申报，请稍后再试，或直接到村委会、拨打 12317 申报"
    assert Declaration.objects.count() == 2


def test_a_deceased_person_still_paid_shows_the_payments_after_death(world):
    from fupin.core.models import Region
    from fupin.funds import services as funds

    officer = world.users["county_officer"]
    budget = funds.budget_create(actor=officer, code="edu-2026-central", name="2026年中央教育资助", source="central",
                                 programme="education", year=2026, region=Region.objects.get(code="513435000000"))
    funds.budget_allocate(actor=officer, budget=budget, amount=100_000, date=dt.date(2026, 3, 1), decision_id="拨-1")
    zhang = world.h1.persons.get(name="张三")
    payee = funds.payee_for_person(zhang)
    for day, amount, run in ((dt.date(2026, 9, 1), 50_000, "run-1"), (dt.date(2026, 10, 15), 12_345, "run-2")):
        funds.payments_post(actor=officer, budget=budget, date=day, decision_type="subsidy_run", decision_id=run,
                            payments=[funds.Payment(payee, amount, "education.x", f"p-{run}")])
    [w] = _linked(world, "deaths", "死亡日期", f"张三,{pid('1970-05-01', 11)},男,,,2026-10-01")
    assert w.evidence[1:] == ["部门记录 2026-10-01 死亡，户籍中仍为在世（户 H1，贫困户）", "死亡后仍支付 123.45 元"]


def test_demo_department_lists_import_cleanly_and_give_findings(world):
    from fupin.monitoring import synthetic
    from fupin.registry.models import Person

    world.h2.status = "exited"
    world.h2.save(update_fields=["status"])
    persons = list(Person.objects.select_related("household"))
    files = synthetic.demo_lists(persons, as_of=dt.date(2026, 11, 1))
    assert sorted(files) == sorted(__import__("fupin.monitoring.lists", fromlist=["kinds"]).kinds())
    user = world.users["county_officer"]
    for kind, (source, data) in files.items():
        report = imp(user, kind, data, name=f"{kind}.csv", source=source)
        assert report.ok, (kind, [str(p) for p in report.problems])
    assert Batch.objects.count() == 11
    for kind in ("deaths", "diseases"):
        services.batch_link(actor=user, batch_id=Batch.objects.get(kind=kind).pk)
    # 4 deaths and 4 health records of registry persons (every third written with an error, 季四 for 李四)
    # + 2 strangers each; 马六 lives in another county, outside the importer's region: not linked
    assert sorted(Warning.objects.values_list("rule", flat=True)) == ["deceased"] * 3 + ["disease_inconsistent"] * 3
    assert sorted(Link.objects.values_list("row__batch__kind", "row__name", "band", "method")) == [
        ("deaths", "季四", "auto", "model"), ("deaths", "张三", "auto", "id"), ("deaths", "王五", "auto", "id"),
        ("diseases", "张三", "auto", "model"), ("diseases", "李四", "auto", "id"), ("diseases", "赵七", "auto", "id")]


def test_spark_engine_without_pyspark_is_a_chinese_message(tmp_path, capsys):
    """Spark is an optional extra: without it `--engine spark` says what to install (CI has no pyspark)."""
    import importlib.util

    from fupin.cli.main import main
    if importlib.util.find_spec("pyspark") is not None:
        pytest.skip("pyspark is installed here")
    left, right = tmp_path / "l.csv", tmp_path / "r.csv"
    for f in (left, right):
        f.write_text(f"{HEAD}\n张三,{pid('1970-05-01', 11)},男,1970-05-01,桃源村\n", encoding="utf-8")
    assert main(["link", str(left), str(right), "--out", str(tmp_path / "o.csv"), "--engine", "spark"]) == 2
    assert capsys.readouterr().err.strip() == ("未安装 Spark 组件：请先运行 pip install pyspark==3.5.7（并安装 Java 17），"
                                               "或改用 --engine duckdb")
    assert not (tmp_path / "o.csv").exists()
