"""Nightly job: overdue problems go up to the level above (policies/problems.yaml escalation).

    python manage.py oversight_escalate
"""
from django.core.management.base import BaseCommand

from fupin.oversight import services


class Command(BaseCommand):
    help = "逾期未销号的问题逐级上提督办（每晚运行，重复运行不重复上提）"

    def handle(self, *args, **opts):
        n = services.problems_escalate()
        self.stdout.write(f"逾期问题上提：{n} 件")
