"""Writes of the notify room: a user's opt-in, and the daily run that sends reminders of due and
overdue items — once per user, channel, item and day (a second run sends nothing new; a failed
send is tried again by the next run of the same day)."""
from __future__ import annotations

import datetime as dt
import re

from django.db import transaction

from fupin.core import audit
from fupin.core.errors import InvalidInput
from fupin.core.models import AuditAction, User

from . import selectors, senders
from .models import Channel, Notice, Outcome, Subscription

PHONE = re.compile(r"^1[3-9]\d{9}$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


def subscription_save(*, actor: User, email: str, phone: str, by_email: bool, by_sms: bool) -> Subscription:
    """The user's own choice (nobody sets another's). A channel switched on needs its address."""
    email, phone = email.strip(), phone.strip().replace(" ", "")
    errors = {}
    if email and (len(email) > 120 or not EMAIL.match(email)):
        errors["电子邮箱"] = "格式不对，应如 zhangsan@example.cn"
    if phone and not PHONE.match(phone):
        errors["手机号码"] = "应为 11 位手机号码"
    if by_email and not email:
        errors["电子邮箱"] = "选择了邮件提醒，请填写电子邮箱"
    if by_sms and not phone:
        errors["手机号码"] = "选择了短信提醒，请填写手机号码"
    if errors:
        raise InvalidInput(errors)
    with transaction.atomic():
        sub = Subscription.objects.select_for_update().filter(user=actor).first() or Subscription(user=actor)
        fields = ("email", "phone", "by_email", "by_sms")
        before = {f: getattr(sub, f) for f in fields} if sub.updated_at else {}
        after = {"email": email, "phone": phone, "by_email": by_email, "by_sms": by_sms}
        changed = audit.changes(before, after)
        for f, v in after.items():
            setattr(sub, f, v)
        sub.save()
        if changed:
            # addresses are personal data: the audit row says which fields changed, not their values
            audit.record(actor, AuditAction.UPDATE, object_type="notify_subscription", object_id=actor.pk,
                         summary=f"修改提醒方式：邮件{'开' if by_email else '关'}、短信{'开' if by_sms else '关'}",
                         detail={"fields": sorted(changed)})
    return sub


def _message(items: list[selectors.Due], day: dt.date) -> tuple[str, str]:
    late = sum(1 for d in items if d.overdue)
    subject = f"【扶贫工作提醒】{day}：{late} 项已逾期，{len(items) - late} 项今天到期"
    body = "\n".join(f"{n}. {d.text}" for n, d in enumerate(items, 1))
    return subject, body + "\n\n请登录系统办理；如不需要邮件或短信提醒，可在“我的提醒”页关闭。"


def notices_send(*, day: dt.date) -> dict:
    """Send the day's reminders: every user hears of the due and overdue items of its region that its
    role may act on, in the app always, by e-mail and SMS if it opted in; one message per user and
    channel listing only items not yet sent to it that day. Returns counts per channel."""
    due = selectors.due_items(day)
    counts = {"items": len(due), "users": 0, Channel.APP: 0, Channel.EMAIL: 0, Channel.SMS: 0, "failed": 0}
    subs = {s.user_id: s for s in Subscription.objects.all()}
    for user_id, (user, items) in selectors.recipients(due).items():
        counts["users"] += 1
        sub = subs.get(user_id)
        channels = [Channel.APP]
        if sub and sub.by_email and sub.email:
            channels.append(Channel.EMAIL)
        if sub and sub.by_sms and sub.phone:
            channels.append(Channel.SMS)
        for channel in channels:
            sent = set(Notice.objects.filter(user=user, channel=channel, day=day, outcome=Outcome.SENT)
                       .values_list("kind", "object_id"))
            new = [d for d in items if (d.kind, d.object_id) not in sent]
            if not new:
                continue
            outcome, error = Outcome.SENT, ""
            subject, body = _message(new, day)
            try:
                if channel == Channel.EMAIL:
                    senders.send_email(sub.email, subject, body)
                elif channel == Channel.SMS:
                    senders.send_sms(sub.phone, f"{subject}。{new[0].text}{'等' if len(new) > 1 else ''}，请登录系统查看。")
            except senders.SendFailed as exc:
                outcome, error = Outcome.FAILED, exc.reason
            with transaction.atomic():
                for d in new:
                    Notice.objects.update_or_create(
                        user=user, channel=channel, kind=d.kind, object_id=d.object_id, day=day,
                        defaults={"overdue": d.overdue, "text": d.text[:300], "link": d.link, "outcome": outcome,
                                  "error": error})
            counts["failed" if outcome == Outcome.FAILED else channel] += len(new)
    with transaction.atomic():
        audit.record(None, AuditAction.CREATE, object_type="notify_run", object_id=day.isoformat(),
                     summary=f"{day} 到期提醒：{counts['items']} 项涉及 {counts['users']} 人；站内 {counts[Channel.APP]}、"
                             f"邮件 {counts[Channel.EMAIL]}、短信 {counts[Channel.SMS]}、失败 {counts['failed']}",
                     detail={k: v for k, v in counts.items()})
    return counts
