#!/usr/bin/env python3
"""The two commands of README.md. Needs nothing but the machine's Python 3.11.

    python3 dev.py demo   set up .venv, seed a demo county into SQLite, serve on :8000
    python3 dev.py test   set up .venv, PostgreSQL and Chromium, run the suite on SQLite and PostgreSQL,
                          then (whole suite only) the Spark tests with the optional extra and Java 17
    python3 dev.py test-spark   only the Spark pass

Standard library only: it runs before the virtual environment exists.
"""
from __future__ import annotations

import glob
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PY = VENV / "bin" / "python"
SYSTEM_PACKAGES = ["postgresql", "chromium", "chromium-driver", "fonts-noto-cjk", "poppler-utils"]


def say(msg: str) -> None:
    print(f"[dev] {msg}", flush=True)


def run(cmd, **kw) -> None:
    subprocess.run(cmd, check=True, **kw)


def ensure_venv(requirements: str) -> None:
    if sys.version_info[:2] != (3, 11):
        sys.exit("需要 Python 3.11（Django 5.2 LTS）；当前是 %d.%d" % sys.version_info[:2])
    if not PY.exists():
        say("创建虚拟环境 .venv")
        run([sys.executable, "-m", "venv", str(VENV)])
    req = (ROOT / requirements).read_text() + (ROOT / "requirements.txt").read_text()
    digest = hashlib.sha256((req + (ROOT / "pyproject.toml").read_text()).encode()).hexdigest()
    stamp = VENV / f".installed-{requirements}"
    if stamp.exists() and stamp.read_text() == digest:
        return
    say(f"安装依赖（{requirements}）")
    run([str(PY), "-m", "pip", "install", "-q", "--disable-pip-version-check", "-r", str(ROOT / requirements)])
    run([str(PY), "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-deps",
         "-e", str(ROOT)])
    stamp.write_text(digest)


def _missing_system_packages() -> list[str]:
    missing = []
    if not glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        missing.append("postgresql")
    if not shutil.which("chromium"):
        missing.append("chromium")
    if not shutil.which("chromedriver"):
        missing.append("chromium-driver")
    if not glob.glob("/usr/share/fonts/opentype/noto/NotoSansCJK*"):
        missing.append("fonts-noto-cjk")
    if not shutil.which("pdftoppm"):
        missing.append("poppler-utils")
    return missing


def ensure_system_packages() -> None:
    missing = _missing_system_packages()
    if not missing:
        return
    prefix = [] if os.geteuid() == 0 else ["sudo", "-n"]
    say(f"安装系统软件包：{' '.join(missing)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    run(prefix + ["apt-get", "update", "-qq"], env=env)
    run(prefix + ["apt-get", "install", "-y", "-qq", *missing], env=env, stdout=subprocess.DEVNULL)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Postgres:
    """A throwaway PostgreSQL cluster on loopback, removed afterwards."""

    def __init__(self):
        self.bindir = Path(sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1])
        self.dir = Path(tempfile.mkdtemp(prefix="fupin-pg-"))
        self.port = _free_port()
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def __enter__(self) -> str:
        if self.as_user:
            shutil.chown(self.dir, "postgres", "postgres")
        data = self.dir / "data"
        run(self.as_user + [str(self.bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                            "-E", "UTF8", "--locale=C.UTF-8"], stdout=subprocess.DEVNULL)
        # throwaway: no durability (fsync, full pages); what the project needs of the server
        # (docs/deploy-province.md has production's): buffers for a province's indexes, sorts and
        # hashes of a semester run in memory, bulk loads without a checkpoint every few seconds,
        # and no JIT (it compiled every large query for longer than the query ran)
        opts = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir} -c fsync=off " \
               "-c synchronous_commit=off -c full_page_writes=off -c max_connections=100 " \
               "-c shared_buffers=512MB -c work_mem=32MB -c maintenance_work_mem=256MB " \
               "-c max_wal_size=4GB -c checkpoint_timeout=15min -c jit=off " \
               + os.environ.get("FUPIN_PG_OPTIONS", "")  # later settings win, e.g. more memory for a benchmark
        run(self.as_user + [str(self.bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l",
                            str(self.dir / "log"), "-w", "start"], stdout=subprocess.DEVNULL)
        run(self.as_user + [str(self.bindir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                            "fupin"], stdout=subprocess.DEVNULL)
        say(f"PostgreSQL 已在 127.0.0.1:{self.port} 启动")
        return f"postgres://postgres@127.0.0.1:{self.port}/fupin"

    @property
    def socket_url(self) -> str:
        """The same database through the server's local socket (libpq's form), for an app on this machine."""
        return f"postgres://postgres@:{self.port}/fupin?host={self.dir}"

    def __exit__(self, *exc) -> None:
        subprocess.run(self.as_user + [str(self.bindir / "pg_ctl"), "-D", str(self.dir / "data"), "-m",
                                       "immediate", "stop"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(self.dir, ignore_errors=True)


def pytest(extra: list[str], env: dict) -> int:
    workers = os.environ.get("FUPIN_TEST_WORKERS", "2")
    cmd = [str(PY), "-m", "pytest", "-q", "-n", workers, *extra]
    return subprocess.run(cmd, cwd=ROOT, env=env).returncode


def cmd_test(extra: list[str]) -> int:
    ensure_venv("requirements-test.txt")
    ensure_system_packages()
    base = dict(os.environ, FUPIN_TESTING="1", PYTHONHASHSEED="0")
    base.pop("FUPIN_DATABASE_URL", None)
    started = time.monotonic()
    say("测试：SQLite")
    rc_sqlite = pytest(extra, base)
    with Postgres() as url:
        say("测试：PostgreSQL")
        rc_pg = pytest(extra, dict(base, FUPIN_DATABASE_URL=url, FUPIN_TEST_DATABASE_PASS="1"))
    say(f"SQLite {'通过' if rc_sqlite == 0 else '失败'}；PostgreSQL {'通过' if rc_pg == 0 else '失败'}；"
        f"用时 {time.monotonic() - started:.0f} 秒")
    # The whole suite includes the nation tier: Spark in local mode (skipped when pytest arguments pick tests)
    rc_spark = 0 if extra else cmd_test_spark([])
    return rc_sqlite or rc_pg or rc_spark


SPARK_TESTS = ["tests/test_nation.py", "tests/test_monitoring.py::test_spark_engine_gives_the_same_pairs_as_duckdb"]


def cmd_test_spark(extra: list[str]) -> int:
    """The nation tier's tests: Spark in local mode against the single-machine engine. Installs the
    optional extra (requirements-spark.txt) and Debian's Java 17 only for this pass, so `demo` never needs them."""
    ensure_venv("requirements-test.txt")
    ensure_venv("requirements-spark.txt")
    if not shutil.which("java"):
        prefix = [] if os.geteuid() == 0 else ["sudo", "-n"]
        say("安装 Java 17（Spark 需要）")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        run(prefix + ["apt-get", "update", "-qq"], env=env)
        run(prefix + ["apt-get", "install", "-y", "-qq", "openjdk-17-jre-headless"], env=env, stdout=subprocess.DEVNULL)
    started = time.monotonic()
    env = dict(os.environ, FUPIN_TESTING="1", PYTHONHASHSEED="0", FUPIN_TEST_SPARK="1")
    env.pop("FUPIN_DATABASE_URL", None)
    # one process (one JVM) per file: a JVM started without Splink's similarity jar (the nation tier
    # needs none) cannot load it later, so the linkage test would miss its functions
    rc = 0
    for group in ([extra] if extra else [[t] for t in SPARK_TESTS]):
        rc = subprocess.run([str(PY), "-m", "pytest", "-q", "-n", "0", *group], cwd=ROOT, env=env).returncode or rc
    say(f"Spark {'通过' if rc == 0 else '失败'}；用时 {time.monotonic() - started:.0f} 秒")
    return rc


def cmd_demo(extra: list[str]) -> int:
    ensure_venv("requirements.txt")
    env = dict(os.environ, FUPIN_DEMO="1")
    return subprocess.run([str(VENV / "bin" / "fupin"), "demo", *extra], cwd=ROOT, env=env).returncode


def main() -> int:
    commands = {"demo": cmd_demo, "test": cmd_test, "test-spark": cmd_test_spark}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__)
        return 2
    return commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
