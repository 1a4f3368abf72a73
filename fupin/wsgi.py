import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fupin.settings")
application = get_wsgi_application()

# `fupin serve` starts gunicorn with --preload: this module is imported once, in the master, before
# the workers fork, so the policy packs are read here once and no request pays for loading them.
# (Nothing here opens a database connection: each worker opens its own.)
from fupin.policy.packs import shipped_packs  # noqa: E402

shipped_packs()
