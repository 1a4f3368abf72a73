#!/usr/bin/env python3
"""Backup and point-in-time recovery, tested (docs/deploy-province.md). Standard library only.

    python3 scripts/pitr_check.py [--keep]

On a throwaway PostgreSQL cluster with WAL archiving as production has it, it:
1. takes a base backup (pg_basebackup) and writes a ledger-like table's first rows;
2. names a restore point, then makes "the mistake": more rows and a DROP TABLE;
3. restores the base backup into a new data directory, replays the archived WAL up to the restore
   point (restore_command, recovery_target_name), and checks that exactly the rows written before
   the point are there, and the table the mistake dropped is back.
Exit 0 and "PITR 恢复检查通过" when all holds; otherwise a non-zero exit saying what failed.
Production runs the same steps with pgBackRest (`pgbackrest restore --type=name --target=…`) or
this archive; run this script after any change to the backup settings, and in CI
(tests/test_pitr.py).
"""
from __future__ import annotations

import argparse
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    def __init__(self, base: Path):
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
        if not bins:
            sys.exit("找不到 PostgreSQL（/usr/lib/postgresql/*/bin）；请先安装 postgresql")
        self.bin = Path(bins[-1])
        self.base = base
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.port = free_port()

    def run(self, *cmd, check=True, **kw):
        return subprocess.run(self.as_user + [str(self.bin / cmd[0]), *cmd[1:]], check=check,
                              capture_output=True, text=True, **kw)

    def sql(self, query: str) -> str:
        out = self.run("psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", "postgres",
                       "-At", "-v", "ON_ERROR_STOP=1", "-c", query)
        return out.stdout.strip()

    def start(self, data: Path):
        self.run("pg_ctl", "-D", str(data), "-l", str(self.base / f"{data.name}.log"), "-w", "-t", "120",
                 "-o", f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1", "start")

    def stop(self, data: Path):
        self.run("pg_ctl", "-D", str(data), "-m", "fast", "-w", "stop", check=False)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--keep", action="store_true", help="keep the clusters' folder (for a look afterwards)")
    args = ap.parse_args()
    base = Path(tempfile.mkdtemp(prefix="fupin-pitr-"))
    c = Cluster(base)
    if c.as_user:
        shutil.chown(base, "postgres", "postgres")
    primary, restored, archive, backup = base / "primary", base / "restored", base / "archive", base / "backup"
    archive.mkdir()
    if c.as_user:
        shutil.chown(archive, "postgres", "postgres")
    try:
        c.run("initdb", "-D", str(primary), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8")
        with open(primary / "postgresql.conf", "a") as f:
            # as docs/deploy-province.md: every WAL segment archived; a short timeout so the test
            # does not wait for a segment to fill
            f.write(f"wal_level = replica\narchive_mode = on\narchive_timeout = 60\n"
                    f"archive_command = 'test ! -f {archive}/%f && cp %p {archive}/%f'\n")
        c.start(primary)
        c.sql("CREATE TABLE ledger (id serial PRIMARY KEY, amount bigint NOT NULL)")
        c.run("pg_basebackup", "-h", "127.0.0.1", "-p", str(c.port), "-U", "postgres", "-D", str(backup),
              "-X", "none", "-c", "fast")
        c.sql("INSERT INTO ledger (amount) SELECT g FROM generate_series(1, 1000) g")
        c.sql("SELECT pg_create_restore_point('before_mistake')")
        c.sql("INSERT INTO ledger (amount) SELECT -g FROM generate_series(1, 500) g")
        c.sql("DROP TABLE ledger")
        # close the WAL segment holding the mistake and wait until it is in the archive
        closed = c.sql("SELECT pg_walfile_name(pg_switch_wal())")
        for _ in range(300):
            if (archive / closed).exists():
                break
            time.sleep(0.2)
        else:
            print(f"PITR 恢复检查失败：WAL 段 {closed} 没有归档（检查 archive_command）", file=sys.stderr)
            return 1
        c.stop(primary)
        # restore: the base backup, then the archive replayed up to the restore point
        shutil.copytree(backup, restored)
        if c.as_user:
            subprocess.run(["chown", "-R", "postgres:postgres", str(restored)], check=True)
        os.chmod(restored, 0o700)
        with open(restored / "postgresql.conf", "a") as f:
            f.write(f"archive_mode = off\nrestore_command = 'cp {archive}/%f %p'\n"
                    "recovery_target_name = 'before_mistake'\nrecovery_target_action = 'promote'\n")
        (restored / "recovery.signal").touch()
        if c.as_user:
            shutil.chown(restored / "recovery.signal", "postgres", "postgres")
        c.start(restored)
        for _ in range(300):
            if c.sql("SELECT pg_is_in_recovery()") == "f":
                break
            time.sleep(0.2)
        got = c.sql("SELECT count(*), coalesce(sum(amount), 0), coalesce(min(amount), 0) FROM ledger")
        c.stop(restored)
        if got != "1000|500500|1":
            print(f"PITR 恢复检查失败：恢复到还原点后应有 1000 行、合计 500500、最小 1，实际为 {got}", file=sys.stderr)
            return 1
        print("PITR 恢复检查通过：基础备份 + 归档 WAL 恢复到还原点 before_mistake，误操作前的 1000 行齐全，误删的表已恢复，误操作后的 500 行不在")
        return 0
    except subprocess.CalledProcessError as exc:
        print(f"PITR 恢复检查失败：{' '.join(exc.cmd)}\n{exc.stderr}", file=sys.stderr)
        return 1
    finally:
        c.stop(primary)
        c.stop(restored)
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
