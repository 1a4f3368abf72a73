import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fupin.settings")
application = get_wsgi_application()

# `fupin serve` starts gunicorn with --preload: this module is imported once, in the master, before
# the workers fork, so the policy packs are read here once and no request pays for loading them.
# (Nothing here opens a database connection: each worker opens its own.)
from fupin.policy.packs import shipped_packs  # noqa: E402

shipped_packs()

# The URLconf too: Django imports it, and with it every view module of every room, at the first
# request a process answers. Without this each worker's first claim waited half a second for it.
from django.urls import get_resolver  # noqa: E402

get_resolver().url_patterns

# Everything loaded so far (Django, the packs, Polars) lives as long as the process: moved out of
# the cyclic garbage collector's sight, so its collections, which a settlement's many small objects
# trigger, walk only what requests create (a fifth of a settlement's CPU went to walking the packs),
# and the workers' pages stay shared with the master.
import gc  # noqa: E402

gc.collect()
gc.freeze()
