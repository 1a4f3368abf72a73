"""Daily: remind users of due and overdue plan items, warnings and problems (in the app; by e-mail and
SMS for those who opted in). Running it twice on a day sends nothing twice.

    python manage.py notify_due               # today (Beijing date)
    python manage.py notify_due --date 2026-12-01
    python manage.py notify_due --enqueue     # hand it to the background worker instead
"""
import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from fupin.notify import services


class Command(BaseCommand):
    help = "发送到期与逾期事项提醒（每天运行；同一天重复运行不重复发送）"

    def add_arguments(self, parser):
        parser.add_argument("--date", default="", help="提醒日期，如 2026-12-01；默认今天")
        parser.add_argument("--enqueue", action="store_true", help="交给后台任务执行")

    def handle(self, *args, **opts):
        try:
            day = dt.date.fromisoformat(opts["date"]) if opts["date"] else timezone.localdate()
        except ValueError:
            raise CommandError(f"日期“{opts['date'][:20]}”应写作 2026-12-01") from None
        if opts["enqueue"]:
            from fupin.notify.tasks import send_due_notifications

            result = send_due_notifications.enqueue(day.isoformat())
            self.stdout.write(f"已交给后台任务：{result.id}")
            return
        c = services.notices_send(day=day)
        self.stdout.write(f"{day} 到期提醒：{c['items']} 项，{c['users']} 人；站内 {c['app']} 条，邮件 {c['email']} 条，"
                          f"短信 {c['sms']} 条，失败 {c['failed']} 条")
