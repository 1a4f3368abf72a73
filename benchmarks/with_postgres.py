#!/usr/bin/env python
"""Run a benchmark against a throwaway PostgreSQL cluster (the one `dev.py test` uses):

    .venv/bin/python benchmarks/with_postgres.py benchmarks/policy.py --students 1000000
"""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from dev import Postgres  # noqa: E402

with Postgres() as url:
    rc = subprocess.run([sys.executable, *sys.argv[1:], "--database-url", url], cwd=ROOT).returncode
sys.exit(rc)
