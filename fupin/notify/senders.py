"""Where a reminder goes. E-mail: Django's e-mail backend (settings.EMAIL_BACKEND; SMTP in
production, EMAIL_HOST/EMAIL_PORT). SMS: a gateway interface with three backends, chosen by
settings.FUPIN_SMS_BACKEND:

- `fupin.notify.senders.FileSms`    appends one JSON line per message to settings.FUPIN_SMS_FILE
                                    (tests, demo; the default)
- `fupin.notify.senders.ConsoleSms` writes the message to standard output (development)
- `fupin.notify.senders.HttpSms`    POSTs JSON {"phone", "text", "sign"} to settings.FUPIN_SMS_URL with
                                    the header `Authorization: Bearer <FUPIN_SMS_TOKEN>`; any 2xx answer
                                    is success. A provider with another format (Aliyun, Tencent Cloud,
                                    an enterprise WeChat robot) gets a small adaptor subclass that
                                    overrides `payload()` — the endpoint is a setting, not code.

A backend raises SendFailed with a Chinese reason; the reminder is logged as failed and the next run
on the same day tries it again."""
from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request

from django.conf import settings
from django.core.mail import send_mail
from django.utils.module_loading import import_string


class SendFailed(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason[:300]


class SmsBackend:
    def send(self, phone: str, text: str) -> None:  # pragma: no cover - interface
        raise NotImplementedError


class FileSms(SmsBackend):
    def send(self, phone: str, text: str) -> None:
        path = getattr(settings, "FUPIN_SMS_FILE", "")
        if not path:
            raise SendFailed("未设置短信文件 FUPIN_SMS_FILE")
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"phone": phone, "text": text}, ensure_ascii=False) + "\n")


class ConsoleSms(SmsBackend):
    def send(self, phone: str, text: str) -> None:
        sys.stdout.write(f"[短信] {phone}：{text}\n")


class HttpSms(SmsBackend):
    timeout = 10

    def payload(self, phone: str, text: str) -> dict:
        return {"phone": phone, "text": text, "sign": getattr(settings, "FUPIN_SMS_SIGN", "")}

    def send(self, phone: str, text: str) -> None:
        url = getattr(settings, "FUPIN_SMS_URL", "")
        if not url.startswith(("https://", "http://")):
            raise SendFailed("未设置短信网关地址 FUPIN_SMS_URL")
        request = urllib.request.Request(url, data=json.dumps(self.payload(phone, text), ensure_ascii=False).encode(),
                                         headers={"Content-Type": "application/json; charset=utf-8",
                                                  "Authorization": f"Bearer {getattr(settings, 'FUPIN_SMS_TOKEN', '')}"},
                                         method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 (the URL is a setting)
                if not 200 <= response.status < 300:
                    raise SendFailed(f"短信网关返回 {response.status}")
        except urllib.error.HTTPError as exc:
            raise SendFailed(f"短信网关返回 {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise SendFailed(f"短信网关无法连接：{getattr(exc, 'reason', exc)}") from None


def sms_backend() -> SmsBackend:
    return import_string(getattr(settings, "FUPIN_SMS_BACKEND", "fupin.notify.senders.FileSms"))()


def send_email(address: str, subject: str, body: str) -> None:
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [address], fail_silently=False)
    except Exception as exc:  # smtplib errors, refused connections, bad addresses: all logged as failed
        raise SendFailed(f"邮件发送失败：{exc.__class__.__name__} {exc}") from None


def send_sms(phone: str, text: str) -> None:
    sms_backend().send(phone, text)
