"""Malformed path and query values answer 400/404 with a Chinese message, never 500."""
import re

import pytest
from django.conf import settings

HAN = re.compile(r"[\u4e00-\u9fff]{4,}")
HUGE = "9" * 30


def signed_in(client, world, role):
    """A session as `role`, past the second factor when the role needs one."""
    user = world.users[role]
    client.force_login(user)
    if "django_otp" in settings.INSTALLED_APPS:
        from django_otp.plugins.otp_totp.models import TOTPDevice

        device = TOTPDevice.objects.create(user=user, name="测试", confirmed=True)
        session = client.session
        session["otp_device_id"] = device.persistent_id
        session.save()
    return client


def _message(r) -> str:
    body = r.content.decode()
    if r.headers.get("Content-Type", "").startswith("application/json"):
        import json

        data = json.loads(body)
        return data.get("detail") or data.get("error") or ""
    m = re.search(r'<div class="msg error"[^>]*>(.*?)</div>', body, re.S)
    return m.group(1) if m else body


# (method, url, data, statuses allowed). {h} is household H1, {p} its head, {c} the county.
MALFORMED = [
    ("get", "/workflows/stage/{c}/identification/abc/", None, {400, 404}),
    ("get", "/workflows/stage/{c}/identification/1.5/", None, {400, 404}),
    ("get", "/workflows/stage/{c}/nonsense/1/", None, {400, 404}),
    ("get", "/workflows/stage/abc/identification/1/", None, {400, 404}),
    ("get", "/workflows/stage/999999999999/identification/1/", None, {404}),
    ("get", "/workflows/stage/{c}/identification/" + HUGE + "/", None, {200, 400, 404}),   # no such step: empty
    ("post", "/workflows/bulk-approve/", {"instances": "abc"}, {400}),
    ("post", "/workflows/bulk-approve/", {"instances": HUGE}, {400, 404}),
    ("get", "/workflows/summary/abc/", None, {400, 404}),
    ("get", "/workflows/notices/" + HUGE + "/", None, {404}),
    ("get", "/workflows/notices/" + HUGE + "/pdf/", None, {404}),
    ("post", "/workflows/" + HUGE + "/act/", {"decision": "approve"}, {404}),
    ("get", "/pairing/cards/abc.pdf", None, {400, 404}),
    ("get", "/pairing/cards/" + HUGE + ".pdf", None, {404}),
    ("get", "/pairing/cards/-1.pdf", None, {400, 404}),
    ("get", "/pairing/cards/{c}.pdf?year=abc", None, {400}),
    ("get", "/pairing/cards/{c}.pdf?year=" + HUGE, None, {400}),
    ("get", "/pairing/compliance/?year=abc", None, {400}),
    ("get", "/pairing/compliance/?region=abc", None, {400, 404}),
    ("get", "/pairing/team/?year=abc", None, {400, 404}),   # 404: not a work-team member
    ("get", "/regions/abc/", None, {400, 404}),
    ("get", "/regions/" + HUGE + "/", None, {400, 404}),
    ("get", "/households/?page=abc", None, {200, 400}),
    ("get", "/households/?page=" + HUGE, None, {200, 400}),
    ("get", "/households/?region=abc", None, {200, 400}),
    ("get", "/households/" + HUGE + "/", None, {404}),
    ("get", "/households/" + HUGE + "/edit/", None, {404}),
    ("post", "/households/{h}/reveal/nonsense/", None, {400, 404}),
    ("post", "/persons/{p}/reveal/nonsense/", None, {400, 404}),
    ("post", "/persons/" + HUGE + "/reveal/id/", None, {404}),
    ("post", "/persons/{p}/event/", {"kind": "nonsense", "date": "2024-13-45"}, {200, 400}),
    ("get", "/persons/" + HUGE + "/edit/", None, {404}),
    ("get", "/education/runs/" + HUGE + "/", None, {404}),
    ("post", "/education/runs/" + HUGE + "/nonsense/", None, {400, 404}),
    ("get", "/education/lines/" + HUGE + "/explain/", None, {404}),
    ("get", "/education/dropout/?township=abc", None, {400, 404}),
    ("get", "/education/dropout/?semester=abc", None, {200, 400}),
    ("get", "/exchange/errors/abc/", None, {404}),
    ("get", "/exchange/errors/..%2F..%2Fsettings/", None, {400, 404}),
    ("get", "/exchange/export.xlsx?region=abc", None, {400, 404}),
    ("get", "/health/claims/" + HUGE + "/", None, {404}),
    ("get", "/health/claims/" + HUGE + "/slip.pdf", None, {404}),
    ("get", "/support/bulletin/abc/", None, {400, 404}, "medical_affairs"),
    ("get", "/support/bulletin/2024-13/", None, {400, 404}, "medical_affairs"),
    ("get", "/support/bulletin/2024-13/", None, {403}),   # the right is checked before the value
    ("get", "/support/members/" + HUGE + "/", None, {404}),
    ("get", "/audit/?page=abc", None, {200, 400}, "auditor"),
    ("get", "/audit/?page=" + HUGE, None, {200, 400}, "auditor"),
    ("get", "/health/window/?hospital=abc&id_number=x", None, {200, 400, 404}, "hospital_window"),
    ("post", "/health/window/preview/", {"hospital": "abc"}, {400, 404}, "hospital_window"),
    ("post", "/health/window/preview/", {"hospital": HUGE}, {200, 400, 404}, "hospital_window"),
    ("get", "/health/claims/abc/", None, {404}, "hospital_window"),
    ("get", "/funds/?region=abc", None, {200, 400, 404}),
    ("get", "/no/such/page/", None, {404}),
]


CASES = [row if len(row) == 5 else (*row, "county_officer") for row in MALFORMED]


@pytest.mark.parametrize("method,url,data,statuses,role", CASES,
                         ids=[f"{r} {m} {u}"[:90] for m, u, _, _, r in CASES])
def test_malformed_values_answer_in_chinese_never_500(client, world, method, url, data, statuses, role):
    c = signed_in(client, world, role)
    c.raise_request_exception = False     # a 500 must show here as a status, not as a raised error
    head = world.h1.persons.get(relation="head")
    url = url.format(h=world.h1.pk, p=head.pk, c="513435000000")
    r = getattr(c, method)(url, data or {})
    assert r.status_code in statuses, (url, r.status_code, r.content[:300])
    if r.status_code >= 400:
        assert HAN.search(_message(r)), (url, _message(r)[:200])
        assert "Traceback" not in r.content.decode()


def test_hospital_window_with_malformed_values(client, world):
    c = signed_in(client, world, "hospital_window")
    c.raise_request_exception = False
    for url in ("/health/window/?hospital=abc", "/health/window/?hospital=" + HUGE, "/health/?region=abc"):
        r = c.get(url)
        assert r.status_code in (200, 400, 404), (url, r.status_code)
    for bad in ("NaN", "sNaN", "Infinity", "1e999999", "-1", "1.234", HUGE, "１２"):
        r = c.post("/health/window/preview/", {"id_number": "x", "discharge_date": "2024-99-99",
                                               "total": bad, "in_policy": bad, "waivable": bad})
        assert r.status_code in (200, 400, 404), (bad, r.status_code)


def test_error_pages_in_chinese(client, world):
    c = signed_in(client, world, "county_officer")
    r = c.get("/households/" + HUGE + "/")
    assert r.status_code == 404
    assert "找不到" in _message(r)
    r = c.get("/api/v1/nothing-here", HTTP_AUTHORIZATION="Bearer x")
    assert r.status_code == 404
    assert r.headers["Content-Type"].startswith("application/json")
    assert "找不到" in r.json()["detail"]


def test_server_error_page_is_chinese(client, world, settings):
    """An unexpected error shows a Chinese page (no English, no traceback) and keeps the headers."""
    from fupin.core.views import server_error
    from django.test import RequestFactory

    r = server_error(RequestFactory().get("/households/"))
    assert r.status_code == 500
    assert "系统内部出错" in r.content.decode()
    r = server_error(RequestFactory().get("/api/v1/households"))
    assert r.status_code == 500 and "系统内部出错" in r.content.decode()


# ---- the REST API ---------------------------------------------------------------------------------

@pytest.fixture
def officer_api(client, world):
    from fupin.core import services as core_services

    user = world.users["county_officer"]
    token = core_services.token_create(actor=user, user=user, name="t")
    client.raise_request_exception = False
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    class Api:
        def get(self, url):
            return client.get(url, **auth)

        def post(self, url, body, content_type="application/json"):
            return client.post(url, body, content_type=content_type, **auth)

        def patch(self, url, body):
            return client.patch(url, body, content_type="application/json", **auth)
    return Api()


def _chinese_json(r, status):
    assert r.status_code == status, (r.status_code, r.content[:300])
    assert r.headers["Content-Type"].startswith("application/json")
    detail = r.json()["detail"]
    assert isinstance(detail, str) and HAN.search(detail), detail
    return r.json()


def test_api_validation_errors_are_chinese_and_name_the_field(officer_api, world):
    body = _chinese_json(officer_api.get("/api/v1/households?page=abc"), 422)
    assert body["errors"] == {"page": "应为整数"}
    body = _chinese_json(officer_api.post("/api/v1/visits", {"household_id": "x", "date": "2024-13-01",
                                                             "minutes": 1.5, "done": "走访"}), 422)
    assert body["errors"] == {"household_id": "应为整数", "date": "应为日期，如 2024-09-01",
                              "minutes": "应为整数，不能有小数", "client_token": "必须填写"}
    assert body["detail"].startswith("请求数据格式不正确：household_id：应为整数")


def test_api_bad_json_huge_numbers_and_no_token_answer_in_chinese(officer_api, client, world):
    _chinese_json(officer_api.post("/api/v1/visits", "{not json"), 400)
    _chinese_json(officer_api.get("/api/v1/households/" + HUGE), 404)
    _chinese_json(officer_api.get("/api/v1/persons/" + HUGE), 404)
    assert officer_api.get("/api/v1/households?page=" + HUGE).status_code in (200, 400)   # the last page
    _chinese_json(officer_api.post(f"/api/v1/persons/{HUGE}/events", {"kind": "death", "date": "2024-01-01"}), 404)
    r = officer_api.post("/api/v1/visits", {"household_id": int(HUGE), "date": "2024-01-01", "minutes": 10,
                                            "done": "走访", "client_token": "a"})
    assert r.status_code in (400, 404)
    _chinese_json(r, r.status_code)
    r = officer_api.post("/api/v1/visits", {"household_id": world.h1.pk, "date": "2024-01-01",
                                            "minutes": int(HUGE), "done": "走访", "client_token": "b"})
    assert r.status_code in (400, 404, 422)   # 404: a county officer is no household's helper
    _chinese_json(r, r.status_code)
    client.raise_request_exception = False
    _chinese_json(client.get("/api/v1/households"), 401)
    _chinese_json(client.get("/api/v1/households", HTTP_AUTHORIZATION="Bearer nope"), 401)


@pytest.mark.parametrize("money", ["NaN", "sNaN", "Infinity", "-Infinity", "1e999999", "-1", "1.234", HUGE, "", "abc"])
def test_api_money_values_that_are_not_amounts(officer_api, world, money):
    r = officer_api.post("/api/v1/measures", {"household_id": world.h1.pk, "kind": "industry", "money": money,
                                              "date": "2024-01-01", "description": "养殖"})
    assert r.status_code == 400, (money, r.status_code, r.content[:200])
    _chinese_json(r, r.status_code)
    r = officer_api.post("/api/v1/settlements/preview", {
        "hospital": "H", "id_number": "x", "visit_type": "inpatient", "discharge_date": "2024-01-01",
        "in_county": True, "total": money, "in_policy": money, "waivable": money})
    assert r.status_code in (400, 403, 404, 422), (money, r.status_code, r.content[:200])
    _chinese_json(r, r.status_code)


def test_next_after_a_workflow_action_never_leaves_the_site(client, world):
    from fupin.workflows.models import Instance

    inst = Instance.objects.create(household=world.h1, kind="exit", definition={"steps": []}, pack="t",
                                   started_by=world.users["village_cadre"])
    c = signed_in(client, world, "county_officer")
    for evil in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        r = c.post(f"/workflows/{inst.pk}/act/", {"decision": "nonsense", "next": evil})
        assert r.status_code == 302
        assert r.headers["Location"] == f"/households/{world.h1.pk}/", evil
    r = c.post(f"/workflows/{inst.pk}/act/", {"decision": "nonsense", "next": "/workflows/todo/"})
    assert r.headers["Location"] == "/workflows/todo/"


def test_a_too_large_request_states_the_real_limit(client, world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    settings.IMPORT_MAX_BYTES = 1024
    c = signed_in(client, world, "county_officer")
    c.raise_request_exception = False
    r = c.post("/households/new/", {"address": "x" * 4000})
    assert r.status_code == 400
    assert _message(r) == "提交的内容超过 2 KB 的上限（导入的文件每个不能超过 1 KB），请拆分后分批提交。"


def test_form_errors_are_chinese(client, world):
    c = signed_in(client, world, "county_officer")
    head = world.h1.persons.get(relation="head")
    r = c.post(f"/persons/{head.pk}/event/", {"kind": "death", "date": "2024-13-45"})
    body = r.content.decode()
    assert r.status_code in (200, 400)
    assert "输入一个有效的日期" in body
    assert "Enter a valid date" not in body


def test_api_unknown_person_kind_is_a_chinese_400(officer_api, world):
    from .conftest import pid

    r = officer_api.post(f"/api/v1/households/{world.h1.pk}/persons", {
        "name": "新人", "id_number": pid("2000-01-01", 91), "relation": "other", "labour": "ordinary",
        "kind": "nonsense"})
    body = _chinese_json(r, 400)
    assert body["detail"].startswith("“nonsense”不是入户类变动；可选：register（登记）")
    assert world.h1.persons.count() == 3   # nothing registered


def test_csrf_refusal_is_chinese(client, world):
    c = signed_in(client, world, "county_officer")
    c.handler.enforce_csrf_checks = True     # signed in; now a form posted without its token
    r = c.post("/households/new/", {"number": "X"})
    assert r.status_code == 403
    assert _message(r) == "页面已过期或来源不明，操作未执行。请刷新页面（或重新登录）后再提交一次。"
    assert "CSRF" not in r.content.decode()


# ---- sweeps ---------------------------------------------------------------------------------------

# Every form and page, posted or opened with junk in every field and query value, as the roles
# that reach the most screens: a refusal or a message, never a 500.
SWEEP_ROLES = ["county_officer", "county_admin", "school_aid", "hospital_window", "medical_affairs", "pairing_helper"]
SWEEP_POSTS = [
    ("/education/five-heads/", {"township": "abc"}), ("/education/five-heads/", {"township": HUGE}),
    ("/education/roster/", {"semester": "abc"}), ("/education/dropout/{p}/visit/", {"date": "abc"}),
    ("/education/dropout/" + HUGE + "/visit/", {"date": "2024-01-01"}),
    ("/exchange/", {"x": "1"}), ("/funds/", {"year": "abc", "region": "abc"}), ("/funds/", {"year": HUGE}),
    ("/workflows/start/{h}/", {"kind": "nonsense"}), ("/workflows/start/" + HUGE + "/", {"kind": "exit"}),
    ("/pairing/visit/{h}/", {"minutes": "abc", "date": "abc"}), ("/pairing/visit/{h}/", {"minutes": HUGE, "date": "2024-01-01"}),
    ("/pairing/measure/{h}/", {"money": "NaN", "date": "x"}), ("/pairing/measure/{h}/", {"money": "1e999999", "date": "2024-01-01"}),
    ("/pairing/pairs/", {"helper": "abc", "household": "abc"}), ("/pairing/pairs/", {"helper": HUGE, "household": HUGE}),
    ("/pairing/team/", {"date": "abc"}), ("/support/", {"hospital": "abc", "action": "defer", "department": "x"}),
    ("/support/", {"hospital": HUGE, "supported": HUGE, "year": HUGE}),
    ("/health/", {"action": "x", "person": "abc", "amount": "NaN"}), ("/health/claims/" + HUGE + "/reverse/", {"reason": "x"}),
    ("/households/{h}/income/", {"year": "abc", "amount": "NaN"}), ("/households/{h}/guarantee/", {"date": "abc"}),
    ("/households/{h}/split/", {"persons": ["abc", HUGE]}), ("/households/{h}/merge/", {"other": "abc"}),
    ("/households/{h}/edit/", {"village": "abc"}), ("/households/new/", {"village": HUGE}),
    ("/persons/{p}/edit/", {"birth_date": "abc", "migrant_months": HUGE}),
    ("/households/{h}/persons/new/", {"kind": "nonsense", "id_number": "abc", "date": "2024-99-01"}),
    ("/workflows/announcement/?pdf=1", {}), ("/password/", {"old": "x"}),
    ("/account/tokens/" + HUGE + "/revoke/", {}), ("/account/users/" + HUGE + "/unlock/", {}),
    ("/account/otp/", {"code": "abc"}),
]

@pytest.mark.parametrize("role", SWEEP_ROLES)
def test_every_form_posted_with_junk_never_500(client, world, role):
    c = signed_in(client, world, role)
    c.raise_request_exception = False
    head = world.h1.persons.get(relation="head")
    bad = []
    for url, data in SWEEP_POSTS:
        u = url.format(h=world.h1.pk, p=head.pk)
        r = c.post(u, data)
        if r.status_code >= 500:
            bad.append((u, data, r.status_code))
        r = c.get(u.replace("/reverse/", "/"))
        if r.status_code >= 500:
            bad.append(("GET " + u, r.status_code))
    assert bad == []

JUNK = "?page=abc&year=abc&region=abc&semester=abc&township=abc&hospital=abc&month=abc&action=abc&who=abc&q=%00x&format=xlsx&pdf=1&print=1&id_number=abc&status=abc&kind=abc"
SWEEP_GETS = ["/", "/audit/", "/regions/513435000000/", "/households/", "/households/{h}/", "/exchange/", "/exchange/export.xlsx",
        "/exchange/template.xlsx", "/education/", "/education/dropout/", "/funds/", "/health/", "/health/window/",
        "/support/", "/workflows/todo/", "/workflows/summary/513435000000/", "/workflows/announcement/",
        "/pairing/", "/pairing/compliance/", "/pairing/pairs/", "/pairing/team/",
        "/pairing/cards/{h}.pdf", "/pairing/cards/513435000000.pdf", "/account/tokens/", "/account/users/",
        "/persons/{p}/edit/", "/persons/{p}/event/", "/households/{h}/income/", "/households/{h}/guarantee/",
        "/households/{h}/split/", "/households/{h}/merge/", "/households/{h}/persons/new/", "/households/new/"]

@pytest.mark.parametrize("role", SWEEP_ROLES)
def test_every_page_opened_with_junk_queries_never_500(client, world, role):
    c = signed_in(client, world, role)
    c.raise_request_exception = False
    head = world.h1.persons.get(relation="head")
    bad = []
    for url in SWEEP_GETS:
        u = url.format(h=world.h1.pk, p=head.pk)
        for q in (JUNK, JUNK.replace("abc", "9" * 30)):
            r = c.get(u + q)
            if r.status_code >= 500:
                bad.append((u + q[:40], r.status_code))
    assert bad == []


# The rooms with their own urls.py (monitoring, oversight), opened and posted with junk.
ROOM_URLS = [
        "/monitoring/", "/monitoring/errors/abc/", "/monitoring/batches/" + HUGE + "/", "/monitoring/warnings/",
        "/monitoring/warnings/" + HUGE + "/", "/monitoring/warnings/1/nonsense/", "/monitoring/review/",
        "/monitoring/review/" + HUGE + "/decide/", "/oversight/", "/oversight/targets/", "/oversight/problems/",
        "/oversight/problems/new/", "/oversight/problems/" + HUGE + "/", "/oversight/problems/1/nonsense/",
        "/oversight/inspections/", "/oversight/inspections/" + HUGE + "/", "/oversight/inspections/1/sheet/",
        "/oversight/inspections/1/samples/" + HUGE + "/", "/oversight/abc/", "/oversight/513435000000/",
        "/oversight/513435000000/list/nonsense/", "/oversight/513435000000/list/nonsense.xlsx",
        "/oversight/" + HUGE + "/", "/oversight/targets/template.xlsx", "/oversight/problems/from-audit/"]

@pytest.mark.parametrize("role", ["county_officer", "inspector", "civil_affairs"])
def test_room_pages_with_junk_never_500(client, world, role):
    c = signed_in(client, world, role)
    c.raise_request_exception = False
    bad = []
    for u in ROOM_URLS:
        for q in ("", JUNK, JUNK.replace("abc", HUGE)):
            r = c.get(u + q)
            if r.status_code >= 500: bad.append(("GET", u + q[:30], r.status_code))
        r = c.post(u, {k: "abc" for k in ("date", "year", "region", "village", "household", "kind", "decision", "due", "per_stratum", "code", "reason", "note", "amount", "month")})
        if r.status_code >= 500: bad.append(("POST", u, r.status_code))
        r = c.post(u, {k: HUGE for k in ("date", "year", "region", "village", "household", "kind", "decision", "due", "per_stratum", "code", "reason", "note", "amount", "month")})
        if r.status_code >= 500: bad.append(("POST huge", u, r.status_code))
    assert bad == []


def test_form_int_parsing():
    from fupin.core.errors import InvalidInput
    from fupin.core.views import form_int, form_year, parse_int

    assert parse_int(" -12 ", "数") == -12
    for raw, message in [("--5", "数：“--5”应为整数"), ("١٢", "数：“١٢”应为整数"), ("0x10", "数：“0x10”应为整数"),
                         ("9" * 5000, f"数：“{'9' * 40}”超出范围（数值过大）")]:
        with pytest.raises(InvalidInput) as exc:
            parse_int(raw, "数")
        assert exc.value.message == message
    with pytest.raises(InvalidInput) as exc:
        form_year({"year": "10000"}, "year", "年度")
    assert exc.value.message == "年度：“10000”超出范围（应在 1 到 9999 之间）"
    assert form_int({}, "n", "数量", 3) == 3


def test_api_number_with_thousands_of_digits(officer_api):
    body = _chinese_json(officer_api.get("/api/v1/households?page=" + "9" * 5000), 422)
    assert body["errors"] == {"page": "数值过大"}


def test_a_nul_character_in_a_query_or_form_is_a_chinese_400(client, world):
    client.force_login(world.users["county_officer"])
    for r in (client.get("/households/?q=%00"), client.post("/households/", {"q": "张\x00"})):
        assert r.status_code == 400
        assert "请求中含有不可见的空字符（NUL），请删除后重新提交" in r.content.decode()
