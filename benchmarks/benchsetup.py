"""What the benchmarks that go through Django's view stack share: a throwaway database and a
signed-in client that has passed the second factor on the real page."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def django_setup(database_url: str = "", **env: str) -> Path:
    """Settings for a benchmark run (a temp SQLite file unless `database_url`), then migrate.
    `env` sets further FUPIN_* values before Django reads its settings. Returns the run's temp folder."""
    tmp = Path(tempfile.mkdtemp(prefix="fupin-bench-"))
    os.environ["FUPIN_DATABASE_URL"] = database_url or f"sqlite:///{tmp / 'bench.sqlite3'}"
    os.environ["FUPIN_VAR_DIR"] = str(tmp)
    os.environ["FUPIN_DEBUG"] = "0"
    os.environ.setdefault("FUPIN_SECRET_KEY", "benchmark-only")
    for key, value in env.items():
        os.environ.setdefault(key, value)
    os.environ["DJANGO_SETTINGS_MODULE"] = "fupin.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.test.utils import setup_test_environment

    setup_test_environment()
    if database_url:
        call_command("flush", interactive=False, verbosity=0)
    call_command("migrate", verbosity=0)
    return tmp


def signed_in_client(user):
    """A client signed in as `user`; a role that needs the second factor (roles.needs_second_factor)
    passes it once on the real page with the code an authenticator would show."""
    from django.test import Client
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from fupin.core.roles import needs_second_factor

    c = Client()
    c.force_login(user)
    if needs_second_factor(user.role):
        device = TOTPDevice.objects.create(user=user, name="验证器", confirmed=True)
        r = c.post("/account/otp/", {"code": f"{totp(device.bin_key, device.step, device.t0, device.digits):06d}"})
        assert r.status_code == 302, r.content.decode()[:500]
    return c
