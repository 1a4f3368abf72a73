#!/usr/bin/env python
"""Main pages of every role at the county size (issue 13 §3). Not a test: it prints numbers.

    .venv/bin/python benchmarks/pages.py [--persons 15000] [--households 5000] [--samples 10]
    .venv/bin/python benchmarks/pages.py --existing sqlite:////path/to/var/fupin.sqlite3   # a seeded demo
    .venv/bin/python benchmarks/with_postgres.py benchmarks/pages.py

It seeds the demo county the way `fupin demo` does (fupin/demo/generator.py: households,
persons, users, schools and roster, department lists), computes one semester run so the run
review page has its thousands of lines, then signs in as every demo account (second factor
passed on the real page) and GETs each main page `--samples` times through the real view
stack (Django's test client). Pages a role may not open (403/404) are left out. Printed per
page and role: p50 and p95 of the wall time, p95 of the process's CPU time (SQLite runs in
the process, so CPU time is what the page costs even when other work shares the machine), and
the ratio of p95 to the baseline measured in the same run: the change-password form, a page
that reads the session and renders a template and nothing else. Then the login POST (the
password hash), measured the same way. Target: every page under 300 ms p95.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

PAGES = ["/", "/workflows/todo/", "/households/", "/regions/{region}/", "/households/{household}/",
         "/oversight/", "/exchange/", "/education/", "/education/runs/{run}/", "/education/dropout/",
         "/health/", "/health/window/", "/funds/", "/monitoring/", "/monitoring/warnings/", "/monitoring/review/",
         "/pairing/", "/pairing/pairs/", "/pairing/compliance/", "/support/", "/audit/", "/jobs/",
         "/oversight/problems/"]
BASELINE = "/password/"


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def timed(fn, samples):
    wall, cpu = [], []
    fn()   # warm: templates compiled, caches filled, as on a running server
    for _ in range(samples):
        t, c = time.perf_counter(), time.process_time()
        status = fn()
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return status, wall, cpu


def seed(args):
    from fupin.demo import generator

    county = generator.generate(args.persons, households=args.households)
    t = time.perf_counter()
    generator.seed_database(county)
    generator.seed_demo_users(county)
    generator.seed_demo_extras(county)
    generator.seed_demo_department_lists(county)
    print(f"seeded the demo county: {len(county.households)} households, {county.person_count} persons "
          f"in {time.perf_counter() - t:.0f} s")


def semester_run():
    """One computed run (the review page's thousands of lines), as the school-aid office does."""
    from fupin.core.models import User
    from fupin.education import services
    from fupin.education.models import Enrolment, SubsidyRun
    from fupin.funds.models import Account

    run = SubsidyRun.objects.order_by("-id").first()
    if run is None:
        school = User.objects.filter(role="school_aid").first()
        semester = Enrolment.objects.order_by("-semester").values_list("semester", flat=True).first()
        budget = Account.objects.filter(kind="budget", programme="education").first()
        run = services.run_compute(actor=school, semester=semester, region_code=school.region_id, budget=budget)
    return run


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=15000)
    ap.add_argument("--households", type=int, default=5000)
    ap.add_argument("--samples", type=int, default=10, help="requests per page and role (p50/p95 over these)")
    ap.add_argument("--database-url", default="", help="PostgreSQL (emptied first) instead of a temp SQLite file")
    ap.add_argument("--existing", default="", help="a database already seeded by `fupin demo` (read, plus one run)")
    ap.add_argument("--roles", default="", help="comma-separated demo usernames (default: all)")
    args = ap.parse_args()
    from benchsetup import django_setup, signed_in_client

    if args.existing:
        os.environ["FUPIN_DATABASE_URL"] = args.existing
        os.environ.setdefault("FUPIN_SECRET_KEY", "benchmark-only")
        os.environ["DJANGO_SETTINGS_MODULE"] = "fupin.settings"
        import django

        django.setup()
        from django.core.management import call_command
        from django.test.utils import setup_test_environment

        setup_test_environment()
        call_command("migrate", verbosity=0)
    else:
        django_setup(args.database_url)
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from fupin.core.models import User
    from fupin.registry.models import Household

    settings.ALLOWED_HOSTS = ["*"]
    import logging

    logging.getLogger("django.request").setLevel(logging.ERROR)   # the 403s of pages a role may not open
    from fupin.core.models import Region

    if not Region.objects.exists():
        seed(args)
    run = semester_run()
    household = Household.objects.order_by("id").first()
    from fupin.registry.models import Person

    print(f"database: {connection.vendor}; {Household.objects.count()} households, {Person.objects.count()} persons; "
          f"run {run.pk}: {run.lines_count} lines; samples per page: {args.samples}; "
          f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")

    users = User.objects.filter(is_demo=True).order_by("id")
    if args.roles:
        users = users.filter(username__in=args.roles.split(","))
    rows, worst = [], []
    for user in users:
        client = _signed_in(user) if _has_device(user) else signed_in_client(user)
        _, wall, cpu = timed(lambda: client.get(BASELINE).status_code, args.samples)
        base = statistics.median(wall)
        rows.append((user.username, BASELINE, 200, pct(wall, 50), pct(wall, 95), pct(cpu, 50), pct(cpu, 95), 1.0))
        for page in PAGES:
            url = page.format(region=user.region_id, household=household.pk, run=run.pk)
            status = client.get(url).status_code
            if status in (403, 404):
                continue
            status, wall, cpu = timed(lambda: client.get(url).status_code, args.samples)
            rows.append((user.username, url, status, pct(wall, 50), pct(wall, 95), pct(cpu, 50), pct(cpu, 95),
                         pct(wall, 95) / base))
            worst.append((pct(wall, 95), pct(cpu, 95), user.username, url))
    print(f"\n{'account':<20}{'page':<34}{'status':>6}{'p50 ms':>9}{'p95 ms':>9}{'cpu p50':>9}{'cpu p95':>9}{'÷ base':>8}")
    for username, url, status, p50, p95, cpu50, cpu95, ratio in rows:
        flag = "  > 300 ms" if p95 > 0.3 else ""
        print(f"{username:<20}{url:<34}{status:>6}{p50 * 1000:>9.1f}{p95 * 1000:>9.1f}{cpu50 * 1000:>9.1f}{cpu95 * 1000:>9.1f}"
              f"{ratio:>8.1f}{flag}")

    from django.utils import timezone

    password = "Bench-mark-2026!"
    bench, _ = User.objects.get_or_create(username="bench-login", defaults=dict(
        role="auditor", region_id=User.objects.get(username="auditor").region_id, password_changed_at=timezone.now()))
    bench.set_password(password)   # hashed with the configured (production) hasher
    bench.save()   # not a demo account: those sign in only in demo mode

    def login():
        return Client().post("/login/", {"username": "bench-login", "password": password}).status_code

    status, wall, cpu = timed(login, args.samples)
    print(f"\nlogin POST ({settings.PASSWORD_HASHERS[0].rsplit('.', 1)[-1]}): status {status}, "
          f"p50 {pct(wall, 50) * 1000:.1f} ms, p95 {pct(wall, 95) * 1000:.1f} ms, cpu p95 {pct(cpu, 95) * 1000:.1f} ms")
    worst.sort(reverse=True)
    print("slowest pages (p95 wall, cpu):", "; ".join(f"{u} {url} {w * 1000:.0f}/{c * 1000:.0f} ms"
                                                     for w, c, u, url in worst[:5]))


def _has_device(user):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def _signed_in(user):
    """A demo account that already has its authenticator: pass the second factor with its code."""
    from django.test import Client
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from fupin.core.roles import needs_second_factor

    c = Client()
    c.force_login(user)
    if needs_second_factor(user.role):
        device = TOTPDevice.objects.get(user=user, confirmed=True)
        TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)   # a code of this step may have been used
        r = c.post("/account/otp/", {"code": f"{totp(device.bin_key, device.step, device.t0, device.digits):06d}"})
        assert r.status_code == 302, r.content.decode()[:500]
    return c


if __name__ == "__main__":
    main()
