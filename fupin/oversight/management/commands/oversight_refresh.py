"""Nightly job: pre-aggregate the board (作战图) of every region for a year: each top region (a
province) with everything below it, so a province board reads stored numbers too.

    python manage.py oversight_refresh [--year 2026] [--region 513435000000]
"""
from django.core.management.base import BaseCommand
from django.utils import timezone

from fupin.core.models import Region
from fupin.oversight import services


class Command(BaseCommand):
    help = "预先汇总作战图指标（每晚运行；数字旁显示统计时间，清单始终实时）"

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, default=None)
        parser.add_argument("--region", default="")

    def handle(self, *args, year=None, region="", **opts):
        today = timezone.localdate()
        year = year or today.year
        regions = Region.objects.filter(code=region) if region else Region.objects.filter(parent__isnull=True)
        for r in regions:
            n = services.snapshot_refresh(region=r, year=year, today=today)
            self.stdout.write(f"{r.name}：{year} 年指标已汇总（{n} 个数）")
