"""Backups are only as good as a restore: scripts/pitr_check.py takes a base backup of a throwaway
cluster with WAL archiving, names a restore point, drops a table, restores to the point and checks
the rows (docs/deploy-province.md). Runs once, in the PostgreSQL pass of the suite."""
import glob
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.database
@pytest.mark.skipif(connection.vendor != "postgresql" or not glob.glob("/usr/lib/postgresql/*/bin/pg_basebackup"),
                    reason="the restore check runs in the PostgreSQL pass, where the server is installed")
def test_a_base_backup_and_the_wal_archive_restore_to_a_named_point():
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "pitr_check.py")], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ("PITR 恢复检查通过：基础备份 + 归档 WAL 恢复到还原点 before_mistake，误操作前的 1000 行齐全，"
                                  "误删的表已恢复，误操作后的 500 行不在")
