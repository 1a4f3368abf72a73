"""Nightly job: every budget line's stored balance equals the sum of its ledger entries.

    python manage.py funds_check_balances

One grouped read, no lock (a posting commits its entries and its balance together or not at all).
Exit status 1 and one line per budget line that differs; nothing is corrected automatically.
"""
import sys

from django.core.management.base import BaseCommand

from fupin.core.money import fen_to_yuan_str
from fupin.funds import services


class Command(BaseCommand):
    help = "核对各预算科目的余额与账簿分录之和（每晚运行，不加锁）"

    def handle(self, *args, **opts):
        wrong = services.balances_check()
        for account, stored, ledger in wrong:
            self.stdout.write(f"预算科目“{account.name}”（{account.code}）：余额 {fen_to_yuan_str(stored)} 元，"
                              f"账簿分录合计 {fen_to_yuan_str(ledger)} 元，不一致")
        if wrong:
            self.stdout.write(f"共 {len(wrong)} 个预算科目余额与账簿不一致，请报告系统管理员")
            sys.exit(1)
        self.stdout.write("各预算科目余额与账簿分录合计一致")
