"""Reminders of due and overdue work (issue #22 §4): who hears of what, in the app always and by
e-mail and SMS when opted in; once per user, channel, item and day; e-mail through a real SMTP
server on localhost, SMS through the file backend and the HTTP gateway adaptor against a local
HTTP server; the daily command and its background task."""
from __future__ import annotations

import datetime as dt
import json
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from fupin.core.errors import InvalidInput
from fupin.core.models import AuditEvent
from fupin.notify import services
from fupin.notify.models import Notice, Subscription
from fupin.oversight import services as oversight
from fupin.plans import services as plans

from .conftest import COUNTY, V1

DAY = dt.date(2026, 6, 10)


@pytest.fixture
def due(world, settings, tmp_path):
    settings.FUPIN_SMS_BACKEND = "fupin.notify.senders.FileSms"
    settings.FUPIN_SMS_FILE = str(tmp_path / "sms.jsonl")
    officer = world.users["county_officer"]
    p = plans.plan_create(actor=officer, region_code=COUNTY, year=2026, title="2026年教育扶贫工作计划")
    item = lambda t, d: plans.item_add(actor=officer, plan=p, values={"target": t, "owner_unit": "县教育局", "due": d})  # noqa: E731
    a = item("完成控辍保学摸底", dt.date(2026, 6, 1))
    b = item("为12个班配备多媒体", DAY)
    item("建成村幼儿园", dt.date(2026, 7, 1))                     # not due yet
    done = item("完成资助名册核对", dt.date(2026, 5, 1))
    plans.item_done(actor=officer, item_id=done.pk, done_on=dt.date(2026, 4, 30), evidence="名册")
    problem = oversight.problem_create(actor=officer, type="exit_quality", title="桃源村两户收入台账不全",
                                       region_code=V1, household_pk=None, owner_unit="桃源村委会",
                                       deadline=dt.date(2026, 6, 5), today=dt.date(2026, 5, 6))
    services.subscription_save(actor=officer, email="officer@example.cn", phone="13800001111", by_email=True, by_sms=True)
    services.subscription_save(actor=world.users["village_cadre"], email="", phone="13900002222", by_email=False,
                               by_sms=True)
    return {"a": a, "b": b, "problem": problem, "sms": tmp_path / "sms.jsonl"}


def _sms(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def test_each_user_hears_of_its_regions_items_its_role_acts_on_once_a_day(due, world):
    counts = services.notices_send(day=DAY)
    # the county officer: two plan items (one overdue, one due today) and the village's problem;
    # the township officer (T1 covers 桃源村): the problem; the village cadre: the problem (no PLAN_MANAGE)
    assert counts == {"items": 3, "users": 3, "app": 5, "email": 3, "sms": 4, "failed": 0}
    officer, cadre = world.users["county_officer"], world.users["village_cadre"]
    app = list(Notice.objects.filter(user=officer, channel="app").order_by("kind", "object_id")
               .values_list("kind", "object_id", "overdue"))
    assert app == [("plan_item", due["a"].pk, True), ("plan_item", due["b"].pk, False), ("problem", due["problem"].pk, True)]
    assert list(Notice.objects.filter(user=world.users["township_officer"]).values_list("channel", "kind")) == [("app", "problem")]
    assert Notice.objects.get(user=officer, channel="app", object_id=due["b"].pk).text == \
        "2026年教育扶贫工作计划第2项“为12个班配备多媒体”今天到期（时限 2026-06-10，责任单位 县教育局）"
    assert len(mail.outbox) == 1
    m = mail.outbox[0]
    assert m.to == ["officer@example.cn"]
    assert m.subject == "【扶贫工作提醒】2026-06-10：2 项已逾期，1 项今天到期"
    assert m.body.splitlines()[:3] == [
        "1. 2026年教育扶贫工作计划第1项“完成控辍保学摸底”已逾期（时限 2026-06-01，责任单位 县教育局）",
        "2. 2026年教育扶贫工作计划第2项“为12个班配备多媒体”今天到期（时限 2026-06-10，责任单位 县教育局）",
        "3. 桃源村问题“桃源村两户收入台账不全”已逾期未整改（期限 2026-06-05，责任单位 桃源村委会）"]
    assert [s["phone"] for s in _sms(due["sms"])] == ["13800001111", "13900002222"]
    assert _sms(due["sms"])[1]["text"] == ("【扶贫工作提醒】2026-06-10：1 项已逾期，0 项今天到期。桃源村问题“桃源村两户收入台账不全”"
                                           "已逾期未整改（期限 2026-06-05，责任单位 桃源村委会），请登录系统查看。")
    assert Notice.objects.filter(user=cadre).count() == 2
    # a second run the same day sends nothing
    assert services.notices_send(day=DAY) == {"items": 3, "users": 3, "app": 0, "email": 0, "sms": 0, "failed": 0}
    assert len(mail.outbox) == 1 and len(_sms(due["sms"])) == 2
    # the next day the same items are reminded again (once per item and day)
    assert services.notices_send(day=DAY + dt.timedelta(days=1))["app"] == 5
    assert len(mail.outbox) == 2 and mail.outbox[1].subject == "【扶贫工作提醒】2026-06-11：3 项已逾期，0 项今天到期"
    assert AuditEvent.objects.filter(object_type="notify_run").count() == 3


def test_a_failed_sms_is_logged_and_sent_by_the_next_run_the_same_day(due, world, settings):
    settings.FUPIN_SMS_BACKEND = "fupin.notify.senders.HttpSms"
    settings.FUPIN_SMS_URL = ""                                         # not configured: refused
    assert services.notices_send(day=DAY)["failed"] == 4
    failed = Notice.objects.filter(channel="sms", outcome="failed")
    assert failed.count() == 4 and failed.first().error == "未设置短信网关地址 FUPIN_SMS_URL"
    settings.FUPIN_SMS_BACKEND = "fupin.notify.senders.FileSms"
    counts = services.notices_send(day=DAY)
    assert (counts["sms"], counts["app"], counts["failed"]) == (4, 0, 0)
    assert Notice.objects.filter(channel="sms", outcome="sent").count() == 4


def test_the_http_gateway_posts_json_with_the_token_to_the_configured_endpoint(due, world, settings):
    received = []

    class Gateway(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, self.headers["Authorization"], json.loads(body)))
            self.send_response(200 if len(received) == 1 else 503)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Gateway)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings.FUPIN_SMS_BACKEND = "fupin.notify.senders.HttpSms"
        settings.FUPIN_SMS_URL = f"http://127.0.0.1:{server.server_port}/sms/send"
        settings.FUPIN_SMS_TOKEN = "t0ken"
        settings.FUPIN_SMS_SIGN = "甘洛扶贫"
        counts = services.notices_send(day=DAY)
    finally:
        server.shutdown()
    assert [(p, a, b["phone"], b["sign"]) for p, a, b in received] == [
        ("/sms/send", "Bearer t0ken", "13800001111", "甘洛扶贫"), ("/sms/send", "Bearer t0ken", "13900002222", "甘洛扶贫")]
    assert (counts["sms"], counts["failed"]) == (3, 1)               # the gateway refused the second with 503
    assert Notice.objects.get(user=world.users["village_cadre"], channel="sms").error == "短信网关返回 503"


class _SMTP(socketserver.StreamRequestHandler):
    """Just enough of an SMTP server (RFC 5321) for smtplib to hand over one message."""

    messages: list = []

    def handle(self):
        self.wfile.write(b"220 localhost ready\r\n")
        rcpt, data = [], None
        while True:
            line = self.rfile.readline().decode("ascii", "replace").strip()
            verb = line[:4].upper()
            if verb in ("EHLO", "HELO"):
                self.wfile.write(b"250 localhost\r\n")
            elif verb == "MAIL":
                self.wfile.write(b"250 OK\r\n")
            elif verb == "RCPT":
                rcpt.append(line.split(":", 1)[1].strip(" <>"))
                self.wfile.write(b"250 OK\r\n")
            elif verb == "DATA":
                self.wfile.write(b"354 go on\r\n")
                lines = []
                while (raw := self.rfile.readline()) not in (b".\r\n", b""):
                    lines.append(raw)
                data = b"".join(lines)
                _SMTP.messages.append((rcpt, data))
                self.wfile.write(b"250 queued\r\n")
            elif verb == "QUIT" or not line:
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 OK\r\n")


def test_e_mail_goes_through_a_real_smtp_server(due, world, settings):
    import email

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SMTP)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _SMTP.messages = []
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.server_address[1]
        settings.DEFAULT_FROM_EMAIL = "fupin@gl.example.cn"
        counts = services.notices_send(day=DAY)
    finally:
        server.shutdown()
        server.server_close()
    assert counts["email"] == 3
    assert len(_SMTP.messages) == 1
    rcpt, data = _SMTP.messages[0]
    assert rcpt == ["officer@example.cn"]
    msg = email.message_from_bytes(data)
    assert str(email.header.make_header(email.header.decode_header(msg["Subject"]))) == \
        "【扶贫工作提醒】2026-06-10：2 项已逾期，1 项今天到期"
    assert "为12个班配备多媒体" in msg.get_payload(decode=True).decode("utf-8")
    # an unreachable server: logged as failed, not an error page
    settings.EMAIL_PORT = 1
    Notice.objects.filter(channel="email").delete()
    assert services.notices_send(day=DAY)["failed"] == 3
    assert Notice.objects.filter(channel="email").first().error.startswith("邮件发送失败：ConnectionRefusedError")


def test_opting_in_needs_an_address_and_the_audit_row_keeps_no_number(world):
    user = world.users["township_officer"]
    with pytest.raises(InvalidInput) as e:
        services.subscription_save(actor=user, email="", phone="1380000", by_email=True, by_sms=True)
    assert e.value.errors == {"手机号码": "应为 11 位手机号码", "电子邮箱": "选择了邮件提醒，请填写电子邮箱"}
    assert not Subscription.objects.exists()
    services.subscription_save(actor=user, email="t@example.cn", phone="13700003333", by_email=False, by_sms=True)
    ev = AuditEvent.objects.get(object_type="notify_subscription")
    assert ev.summary == "修改提醒方式：邮件关、短信开"
    assert ev.detail == {"fields": ["by_email", "by_sms", "email", "phone"]}
    assert "13700003333" not in json.dumps(ev.detail) + ev.summary


def test_the_page_shows_my_reminders_and_keeps_my_number_masked(due, login, world):
    services.notices_send(day=timezone.localdate())      # the page shows the last 30 days
    c = login("county_officer")
    html = c.get("/notify/").content.decode()
    assert "“为12个班配备多媒体”已逾期" in html and "138****1111" in html and "13800001111" not in html
    r = c.post("/notify/", {"email": "new@example.cn", "phone": "", "by_sms": "1"})
    assert r.status_code == 302
    sub = Subscription.objects.get(user=world.users["county_officer"])
    assert (sub.email, sub.phone, sub.by_email, sub.by_sms) == ("new@example.cn", "13800001111", False, True)


def test_the_daily_command_and_its_background_task(due):
    out = StringIO()
    call_command("notify_due", "--date", "2026-06-10", stdout=out)
    assert out.getvalue().strip() == "2026-06-10 到期提醒：3 项，3 人；站内 5 条，邮件 3 条，短信 4 条，失败 0 条"
    out = StringIO()
    call_command("notify_due", "--date", "2026-06-11", "--enqueue", stdout=out)   # tests run tasks at once
    assert out.getvalue().startswith("已交给后台任务：")
    assert Notice.objects.filter(day=dt.date(2026, 6, 11), channel="app").count() == 5
