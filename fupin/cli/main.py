"""The `fupin` command. Commands only parse arguments, call services and print."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path


def _django(demo: bool = False) -> None:
    if demo:
        os.environ["FUPIN_DEMO"] = "1"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fupin.settings")
    import django

    django.setup()


def _actor(username: str | None):
    from django.conf import settings

    from fupin.core.models import User

    username = username or os.environ.get("FUPIN_USER") or ("admin" if settings.DEMO else None)
    if not username:
        sys.exit("请用 --user 指定以哪个账户的身份操作（权限与管辖范围按该账户计算）")
    user = User.objects.select_related("region").filter(username=username, is_active=True).first()
    if user is None:
        sys.exit(f"账户“{username}”不存在或已停用")
    return user


def _account(username: str):
    """The account a command acts on; main() turns the NotFound into its message and exit code 2."""
    from fupin.core.errors import NotFound
    from fupin.core.models import User

    user = User.objects.filter(username=username).first()
    if user is None:
        raise NotFound(f"账户“{username}”不存在")
    return user


def cmd_id_check(args) -> int:
    from fupin.core import idcard

    results = [(raw, idcard.check(raw)) for raw in args.ids]
    if args.json:
        print(json.dumps([r.as_json(raw) for raw, r in results], ensure_ascii=False))
    else:
        for raw, r in results:
            print(f"{raw}\t{'有效' if r.valid else '无效'}\t" +
                  (f"{r.birth_date} {r.sex}" if r.valid else r.error))
    return 0 if all(r.valid for _, r in results) else 1


def cmd_link(args) -> int:
    _django()  # settings only (thresholds, import limits): the database is not used
    from fupin.monitoring import filelink

    return filelink.run(Path(args.left), Path(args.right), Path(args.out), args.min_probability, engine=args.engine)


def cmd_nation(args) -> int:
    """The national batch on Spark (docs/nation.md); no database."""
    try:
        import pyspark  # noqa: F401 - an optional extra
    except ImportError:
        print("未安装 Spark 组件：请先运行 pip install -r requirements-spark.txt（并安装 Java 17）", file=sys.stderr)
        return 2
    from fupin.policy import nation
    from fupin.policy.errors import PolicyError

    try:
        counts = nation.run(args.roster, args.out, args.model or None, args.master)
    except PolicyError as exc:
        print(exc.message, file=sys.stderr)
        return 1
    for name, n in counts.items():
        print(f"{name}\t{n} 人\t{Path(args.out) / name}")
    return 0


def cmd_import(args) -> int:
    _django()
    from fupin.exchange import households

    path = Path(args.file)
    if not path.is_file():
        print(f"找不到文件：{path}", file=sys.stderr)
        return 2
    report = households.run_import(_actor(args.user), path.read_bytes(), path.name, dry_run=args.dry_run,
                                   initial_load=args.initial_load)
    print(report.summary())
    if report.problems:
        for p in report.problems[:50]:
            print(f"  {p}", file=sys.stderr)
        if len(report.problems) > 50:
            print(f"  ……另有 {len(report.problems) - 50} 处错误", file=sys.stderr)
        if args.errors and report.error_workbook:
            from fupin.exchange.uploads import write_private

            write_private(Path(args.errors), report.error_workbook)  # personal data: 0600
            print(f"错误标注工作簿已写入 {args.errors}", file=sys.stderr)
        return 1
    return 0


def cmd_export(args) -> int:
    _django()
    from fupin.exchange import households

    data, count = households.export_households(_actor(args.user), args.region)
    from fupin.exchange.uploads import write_private

    write_private(Path(args.out), data)  # personal data: 0600
    print(f"已导出 {count} 人到 {args.out}")
    return 0


def cmd_files_sweep(args) -> int:
    _django()
    from django.conf import settings

    from fupin.exchange import uploads

    hours = settings.FILE_RETENTION_HOURS if args.hours is None else args.hours
    removed = uploads.sweep(hours=hours)
    print(f"已删除 {len(removed)} 个超过保留期（{hours:g} 小时）的生成文件（导入错误标注工作簿）")
    return 0


def _migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def _start_job_worker() -> None:
    """The background-job worker (ADR 0012) beside the web server, so one command runs both. It
    is this process's child and stops when this process (gunicorn, after the exec) has gone.
    FUPIN_JOB_WORKER=0 leaves it out, for a deployment that runs `fupin worker` as its own service."""
    if os.environ.get("FUPIN_JOB_WORKER", "1") == "0":
        return
    import subprocess

    subprocess.Popen([sys.executable, "-m", "fupin.cli.main", "worker", "--parent", str(os.getpid())])
    print("后台任务进程已启动（导入、导出、资助计算在后台运行）", flush=True)


def cmd_worker(args) -> int:
    _django()
    import threading
    import time

    from django.core.management import call_command

    if args.parent:
        def watch() -> None:   # the web server has gone: stop too, after the job in hand (SIGTERM is graceful)
            while os.getppid() == args.parent:
                time.sleep(2)
            os.kill(os.getpid(), __import__("signal").SIGTERM)
        threading.Thread(target=watch, daemon=True).start()
    call_command("db_worker", "--queue-name", "default", "--interval", str(args.interval), "--no-startup-delay",
                 "--no-reload", *(["--batch"] if args.once else []))
    return 0


def database_on_this_machine(db: dict) -> bool:
    """Does the database (a DATABASES entry) share this machine's cores: SQLite, or PostgreSQL over
    loopback or a local socket?"""
    host = db.get("HOST") or ""
    return db["ENGINE"].endswith("sqlite3") or host in ("", "localhost", "127.0.0.1", "::1") or host.startswith("/")


def gunicorn_command(bind: str) -> list[str]:
    """How `fupin serve` runs gunicorn (benchmarks/settlement.py runs the same): single-threaded
    (sync) worker processes, each request to a process that is free at that moment (a sync worker
    answers one request per connection, so no client's connection stays with a busy process: with
    threads and kept-alive connections, the slowest 5% of the window's claims took twice the
    median). One process per core when the database shares the machine's cores: its work and the
    processes' compete for them, and each process more only added switching (measured against 1.5
    and 2 per core, ADR 0022); two per core when the database is elsewhere, so that a process
    waiting on the network leaves its core to another. `FUPIN_WORKERS` overrides. Slow clients are
    the TLS proxy's to buffer (docs/deploy-province.md). A request may run 120 s before its process
    is replaced (long work is a background job); the app is loaded once in the master (--preload);
    the workers' heartbeat file is in memory (/dev/shm), not on disk: it is touched on every request."""
    from django.conf import settings

    per_core = 1 if database_on_this_machine(settings.DATABASES["default"]) else 2
    workers = os.environ.get("FUPIN_WORKERS") or str(per_core * (os.cpu_count() or 1))
    shm = ["--worker-tmp-dir", "/dev/shm"] if os.path.isdir("/dev/shm") else []
    return [sys.executable, "-m", "gunicorn", "fupin.wsgi:application", "--bind", bind, "--workers", workers,
            "--worker-class", "sync", "--timeout", "120", *shm, "--preload", "--access-logfile", "-"]


def _serve(bind: str) -> None:
    _start_job_worker()
    host, _, port = bind.rpartition(":")
    command = gunicorn_command(bind)
    workers = command[command.index("--workers") + 1]
    print(f"fupin 已启动：http://{host}:{port}/  （{workers} 个工作进程，Ctrl+C 停止）", flush=True)
    os.execvp(sys.executable, command)


def cmd_demo(args) -> int:
    _django(demo=True)
    if args.what == "clock":
        from django.utils import timezone

        from fupin.core import democlock

        democlock.install()   # (django.setup() already did, when this process started in demo mode)
        if args.shift:
            democlock.move(args.shift)
        days = democlock.offset_days()
        print(f"演示时钟：{timezone.localdate():%Y-%m-%d}" + (f"（比真实日期快 {days} 天）" if days else "（真实日期）")
              + ("；网站一秒内生效，已登录的会话按新时间计算可能已过期，请重新登录" if args.shift else ""))
        return 0
    if args.what:
        print(f"“{args.what}”不是 fupin demo 的子命令；可用：fupin demo clock +7d", file=sys.stderr)
        return 2
    _migrate()
    from fupin.core.models import Region
    from fupin.demo import generator

    from fupin.core.roles import needs_second_factor

    county = generator.generate(args.persons, households=args.households)
    if not Region.objects.exists():
        print(f"正在生成演示县：{len(county.households)} 户、{county.person_count} 人……", flush=True)
        generator.seed_database(county)
    generator.seed_demo_users(county)
    generator.seed_demo_extras(county)
    print("正在导入演示用的部门比对名单并与户籍库比对……", flush=True)
    print(f"比对预警 {generator.seed_demo_department_lists(county)} 条", flush=True)
    secrets = generator.demo_totp_secrets(county)
    print("\n演示账户（密码均为 %s；带 * 的角色登录时还须输入验证器中的6位数字，"
          "可把右列 TOTP 密钥添加到验证器应用，或用 oathtool --totp -b 密钥 计算）：" % generator.DEMO_PASSWORD)
    for username, full, role, region in generator.demo_users(county):
        star = "*" if needs_second_factor(role) else " "
        print(f"  {username:<20} {full:<10} {role:<18}{star} {region}  TOTP {secrets.get(username, '')}")
    from django.utils import timezone

    from fupin.demo.play import history_day

    today = timezone.localdate()
    ends = history_day(today)
    if ends == today:
        print("\n演示村里有停在各级的流程，其中一户正在公示 7 天；用 fupin demo clock +7d 把演示时钟拨快 7 天，"
              "乡镇即可审核（fupin demo clock reset 恢复真实日期）。")
    else:
        from fupin.policy import calendar

        missing = next((y for y in (today.year, today.year + 1) if not calendar.entered(y)), today.year + 1)
        print(f"\n注意：系统还没有录入 {missing} 年的法定节假日和调休安排，期限跨入该年的流程暂时不能发起；"
              f"演示村里停在各级的流程和比对预警按 {ends:%Y-%m-%d} 生成。录入方法见 docs/policy-packs.md。")
    if args.no_serve:
        return 0
    _serve(args.bind)
    return 0


def cmd_serve(args) -> int:
    _django()
    _migrate()
    _serve(args.bind)
    return 0


def cmd_user_create(args) -> int:
    _django()
    import getpass

    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError
    from django.utils import timezone

    from fupin.core import audit
    from fupin.core.models import AuditAction, Region, User
    from fupin.core.roles import Role

    if args.role not in Role.values:
        print(f"角色应为：{', '.join(Role.values)}", file=sys.stderr)
        return 2
    if not Region.objects.filter(code=args.region).exists():
        print(f"区划代码 {args.region} 不存在", file=sys.stderr)
        return 2
    password = os.environ.get("FUPIN_NEW_PASSWORD") or getpass.getpass("新账户密码：")
    user = User(username=args.username, role=args.role, region_id=args.region, password_changed_at=timezone.now())
    try:
        validate_password(password, user)
    except ValidationError as exc:
        print("；".join(exc.messages), file=sys.stderr)
        return 2
    user.set_password(password)
    user.save()
    audit.record(None, AuditAction.CREATE, object_type="user", object_id=user.pk, actor_name="命令行",
                 summary=f"创建账户 {user.username}（{user.get_role_display()}）")
    print(f"已创建账户 {user.username}")
    return 0


def cmd_token_create(args) -> int:
    _django()
    from fupin.core import services

    user = _actor(args.username)
    print(services.token_create(actor=user, user=user, name=args.name))
    return 0


def cmd_token_list(args) -> int:
    _django()
    from fupin.core import services

    owner = _actor(args.username)
    actor = _actor(args.user) if args.user else owner
    from django.utils.timezone import localtime

    for t in services.tokens_for(actor=actor, user=owner):
        state = (f"已撤销 {localtime(t.revoked_at):%Y-%m-%d %H:%M}" if t.revoked and t.revoked_at
                 else ("已撤销" if t.revoked else "有效"))
        print(f"{t.pk}\t{t.name}\t{localtime(t.created_at):%Y-%m-%d %H:%M}\t{state}")
    return 0


def cmd_token_revoke(args) -> int:
    _django()
    from fupin.core import services
    from fupin.core.models import ApiToken

    token = ApiToken.objects.select_related("user").filter(pk=args.id).first()
    if token is None:
        print(f"找不到接口令牌（编号 {args.id}），请用 fupin token list 查看编号", file=sys.stderr)
        return 2
    actor = _actor(args.user) if args.user else _actor(token.user.username)
    services.token_revoke(actor=actor, token_id=token.pk)
    print(f"已撤销接口令牌 {token.pk}（{token.name}，账户 {token.user.username}）")
    return 0


def cmd_user_unlock(args) -> int:
    _django()
    from fupin.core import services

    target = _account(args.username)
    services.user_unlock(actor=_actor(args.user), user=target)
    print(f"已解锁账户 {target.username}")
    return 0


def cmd_user_otp_reset(args) -> int:
    _django()
    from fupin.core import otp

    target = _account(args.username)
    otp.reset(actor=_actor(args.user), user=target)
    print(f"已重置账户 {target.username} 的第二因素，下次登录时重新设置验证器")
    return 0


def _run_line(run) -> str:
    from fupin.policy.money import yuan

    return (f"{run.pk}\t{run.county.name}\t{run.month:%Y-%m}\t{run.get_programme_display()}\t"
            f"{run.get_status_display()}\t{run.lines_count} 人\t{yuan(run.total)} 元")


def cmd_welfare_compute(args) -> int:
    """A monthly payment run of one programme in one county: the same service and capability as
    the screen (WELFARE_MANAGE); the run then waits for another person's approval."""
    _django()
    from fupin.welfare import services

    run = services.run_compute(actor=_actor(args.user), programme=args.programme, county_code=args.county,
                               month=services.parse_month(args.month))
    print(_run_line(run))
    for s in run.stopped:
        print(f"  本月停发：{s['name']}（{s['reason']}）")
    return 0


def cmd_welfare_approve(args) -> int:
    _django()
    from fupin.welfare import services

    print(_run_line(services.run_approve(actor=_actor(args.user), run_id=args.run)))
    return 0


def cmd_welfare_post(args) -> int:
    _django()
    from fupin.welfare import services

    print(_run_line(services.run_post(actor=_actor(args.user), run_id=args.run)))
    return 0


def cmd_welfare_runs(args) -> int:
    _django()
    from fupin.welfare import selectors

    runs = selectors.runs_for(_actor(args.user)).select_related("county")
    if args.month:
        from fupin.welfare.services import parse_month

        runs = runs.filter(month=parse_month(args.month))
    for run in runs[:200]:
        print(_run_line(run))
    return 0


def cmd_packs(args) -> int:
    import datetime as dt

    from fupin.policy.errors import PolicyError
    from fupin.policy.expr import _show
    from fupin.policy.packs import resolve, shipped_packs

    try:
        if args.sub != "show":
            for p in shipped_packs().packs.values():
                lo, hi = p.date_range
                print(f"{p.name:<14} {p.region or '全国':<8} {lo or ''}～{hi or ''}  {p.title}  来源：{p.source}")
            return 0
        packs, chain = resolve(args.name)
        if args.region:
            chain = packs.for_region(args.region)
        date = dt.date.fromisoformat(args.date) if args.date else dt.date.today()
        names = sorted({n for p in chain.packs for n in p.parameters})
        out = {"pack": chain.key, "date": date.isoformat(), "parameters": {}}
        for n in names:
            try:
                v = chain.lookup(n, date)
            except PolicyError as exc:
                out["parameters"][n] = {"error": exc.message}
                continue
            out["parameters"][n] = {"value": _show(chain.unit(n), v.value), "from": v.start.isoformat(),
                                    "source": v.source, "pack": v.pack}
        print(json.dumps(out, ensure_ascii=False, indent=2, default=str))   # pack values may be dates
        return 0
    except (PolicyError, ValueError) as exc:
        print(getattr(exc, "message", str(exc)), file=sys.stderr)
        return 2


def _education(chain, doc):
    from fupin.policy import calculators

    return calculators.education(chain, doc)


def _settlement(chain, claim):
    from fupin.policy import calculators

    return calculators.settlement(chain, claim)


def _support(chain, record):
    from fupin.policy.rules import support

    return support.assess(chain, record)


CALCULATIONS = {"education": _education, "settlement": _settlement, "support-assessment": _support}


def cmd_calc(args) -> int:
    """Read a JSON case (or a list, for education) on stdin, print the result as JSON. No database."""
    from fupin.policy.calculators import parse_json
    from fupin.policy.errors import PolicyError
    from fupin.policy.packs import resolve

    try:
        _, chain = resolve(args.pack)
        doc = parse_json(sys.stdin.read(), "标准输入")
        result = CALCULATIONS[args.model](chain, doc)
    except PolicyError as exc:
        print(json.dumps({"error": exc.message}, ensure_ascii=False))
        return 2
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="fupin", description="扶贫信息系统命令行")
    sub = p.add_subparsers(dest="command", required=True)

    idp = sub.add_parser("id", help="身份证号").add_subparsers(dest="sub", required=True)
    chk = idp.add_parser("check", help="校验身份证号（GB 11643）")
    chk.add_argument("--json", action="store_true")
    chk.add_argument("ids", nargs="+", metavar="ID")
    chk.set_defaults(func=cmd_id_check)

    lk = sub.add_parser("link", help="比对两个名单文件（不用数据库）：输出候选配对、匹配概率和分档（docs/linkage.md）")
    lk.add_argument("left", metavar="LEFT")
    lk.add_argument("right", metavar="RIGHT")
    lk.add_argument("--out", required=True, metavar="MATCHES", help="输出文件（.csv 或 .xlsx）")
    lk.add_argument("--min-probability", type=float, default=None, help="输出的最低匹配概率（默认：人工复核阈值）")
    lk.add_argument("--engine", choices=["duckdb", "spark"], default="duckdb",
                    help="比对引擎：duckdb（本机）或 spark（需另装 pyspark；本机 local 模式，集群用 spark-submit，见 docs/linkage.md）")
    lk.set_defaults(func=cmd_link)

    na = sub.add_parser("nation", help="全国批量计算：每个模型的全部规则，按区县分区的名册，在 Spark 上运行（不用数据库；docs/nation.md）")
    na.add_argument("roster", metavar="ROSTER", help="名册目录：<模型>/county=<区县代码>/*.parquet")
    na.add_argument("out", metavar="OUT", help="输出目录：<模型>/county=<区县代码>/*.parquet")
    na.add_argument("--model", action="append", help="只算这个模型（education、welfare；可重复；默认名册中有的全部）")
    na.add_argument("--master", help="Spark master（默认 local[2]；spark-submit 下由它决定）")
    na.set_defaults(func=cmd_nation)

    imp = sub.add_parser("import", help="导入").add_subparsers(dest="sub", required=True)
    ih = imp.add_parser("households", help="从 Excel 导入户和人员（全部成功或全部不导入）")
    ih.add_argument("file")
    ih.add_argument("--dry-run", action="store_true", help="只检查，不保存")
    ih.add_argument("--errors", metavar="OUT.xlsx", help="出错时写出标注错误的工作簿")
    ih.add_argument("--user", help="以哪个账户的身份导入")
    ih.add_argument("--initial-load", action="store_true",
                    help="上线时一次性迁移原有建档立卡库：新户保留文件中的户状态（仅县级管理员）")
    ih.set_defaults(func=cmd_import)

    exp = sub.add_parser("export", help="导出").add_subparsers(dest="sub", required=True)
    eh = exp.add_parser("households", help="把一个区划的户和人员导出为 Excel")
    eh.add_argument("--region", required=True, help="12位区划代码")
    eh.add_argument("--user")
    eh.add_argument("out", metavar="OUT.xlsx")
    eh.set_defaults(func=cmd_export)

    files = sub.add_parser("files", help="生成的文件").add_subparsers(dest="sub", required=True)
    fsw = files.add_parser("sweep", help="删除超过保留期的生成文件（保留期见 FUPIN_FILE_RETENTION_HOURS）")
    fsw.add_argument("--hours", type=float, help="保留小时数（默认取设置）")
    fsw.set_defaults(func=cmd_files_sweep)

    demo = sub.add_parser("demo", help="生成演示县并启动网站；fupin demo clock +7d 把演示时钟拨快7天（reset 恢复）")
    demo.add_argument("what", nargs="?", help="clock：查看或拨动演示时钟")
    demo.add_argument("shift", nargs="?", help="+7d、+2w 或 reset")
    demo.add_argument("--persons", type=int, default=15000)
    demo.add_argument("--households", type=int, default=5000)
    demo.add_argument("--bind", default="127.0.0.1:8000")
    demo.add_argument("--no-serve", action="store_true")
    demo.set_defaults(func=cmd_demo)

    serve = sub.add_parser("serve", help="启动网站（正式部署）")
    serve.add_argument("--bind", default=os.environ.get("FUPIN_BIND", "127.0.0.1:8000"))
    serve.set_defaults(func=cmd_serve)

    user = sub.add_parser("user", help="账户").add_subparsers(dest="sub", required=True)
    uc = user.add_parser("create", help="创建账户（密码从 FUPIN_NEW_PASSWORD 或提示输入）")
    uc.add_argument("username")
    uc.add_argument("--role", required=True)
    uc.add_argument("--region", required=True)
    uc.set_defaults(func=cmd_user_create)
    uu = user.add_parser("unlock", help="解锁因登录失败过多而锁定的账户（须管理员账户 --user）")
    uu.add_argument("username")
    uu.add_argument("--user", help="以哪个管理员账户的身份操作")
    uu.set_defaults(func=cmd_user_unlock)
    ur = user.add_parser("otp-reset", help="重置账户的第二因素（手机丢失且恢复码用完时；须管理员账户 --user）")
    ur.add_argument("username")
    ur.add_argument("--user", help="以哪个管理员账户的身份操作")
    ur.set_defaults(func=cmd_user_otp_reset)

    tok = sub.add_parser("token", help="接口令牌").add_subparsers(dest="sub", required=True)
    tc = tok.add_parser("create", help="为账户创建接口令牌（只显示一次）")
    tc.add_argument("username")
    tc.add_argument("--name", default="api")
    tc.set_defaults(func=cmd_token_create)
    tl = tok.add_parser("list", help="列出账户的接口令牌（编号、名称、创建时间、状态）")
    tl.add_argument("username")
    tl.add_argument("--user", help="以哪个账户的身份查看（默认账户本人；管理员可看本辖区账户）")
    tl.set_defaults(func=cmd_token_list)
    tr = tok.add_parser("revoke", help="撤销接口令牌（立即失效）")
    tr.add_argument("id", type=int)
    tr.add_argument("--user", help="以哪个账户的身份撤销（默认令牌所属账户本人）")
    tr.set_defaults(func=cmd_token_revoke)

    wk = sub.add_parser("worker", help="运行后台任务（fupin serve 与 fupin demo 已自动启动一个）")
    wk.add_argument("--interval", type=float, default=1.0, help="没有任务时每隔几秒查看一次队列")
    wk.add_argument("--once", action="store_true", help="做完队列中已有的任务就退出")
    wk.add_argument("--parent", type=int, help=argparse.SUPPRESS)
    wk.set_defaults(func=cmd_worker)

    packs = sub.add_parser("packs", help="政策包：列出或显示")
    packs.set_defaults(func=cmd_packs, sub="list")
    psub = packs.add_subparsers(dest="sub")
    show = psub.add_parser("show", help="显示一个政策包在某区划、某日期生效的全部参数")
    show.add_argument("name", help="政策包名称或 YAML 文件路径")
    show.add_argument("--region", help="按区划代码选择最具体的政策包")
    show.add_argument("--date", help="YYYY-MM-DD，默认今天")
    show.set_defaults(func=cmd_packs)

    wf = sub.add_parser("welfare", help="社会救助按月发放：计算、审批（须另一人）、发放入账").add_subparsers(
        dest="sub", required=True)
    wc = wf.add_parser("compute", help="计算一个县一个月的一个救助项目的发放")
    wc.add_argument("--programme", required=True, choices=["dibao", "tekun", "disability_nursing",
                                                           "disability_living", "fp_reward", "fp_special"],
                    help="救助项目：dibao 低保、tekun 特困、disability_nursing 重度残疾人护理补贴、"
                         "disability_living 困难残疾人生活补贴、fp_reward 计生奖励扶助、fp_special 计生特别扶助")
    wc.add_argument("--county", required=True, help="县级区划代码")
    wc.add_argument("--month", required=True, help="发放月份，如 2026-12")
    wc.add_argument("--user", help="以哪个账户的身份计算")
    wc.set_defaults(func=cmd_welfare_compute)
    wa = wf.add_parser("approve", help="审批一次计算（不能由计算人审批）")
    wa.add_argument("run", type=int, help="计算编号")
    wa.add_argument("--user", help="以哪个账户的身份审批")
    wa.set_defaults(func=cmd_welfare_approve)
    wpo = wf.add_parser("post", help="把已审批的计算发放入账（同一人同一月不会重复发放）")
    wpo.add_argument("run", type=int, help="计算编号")
    wpo.add_argument("--user", help="以哪个账户的身份发放")
    wpo.set_defaults(func=cmd_welfare_post)
    wr = wf.add_parser("runs", help="列出管辖范围内的发放计算")
    wr.add_argument("--month", help="只列这个月，如 2026-12")
    wr.add_argument("--user", help="以哪个账户的身份查看")
    wr.set_defaults(func=cmd_welfare_runs)

    calc = sub.add_parser("calc", help="按政策计算（从标准输入读 JSON，不访问数据库）")
    calc.add_argument("model", choices=sorted(CALCULATIONS))
    calc.add_argument("--pack", required=True, help="政策包名称或 YAML 文件路径")
    calc.set_defaults(func=cmd_calc)
    return p


def main(argv: list[str] | None = None) -> int:
    """Every command ends with a Chinese message and a non-zero exit, never a traceback, when the
    installation itself is not ready (no secret key, no database, a bad setting)."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("已中断", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - only the installation errors below are answered here
        message = _setup_problem(exc)
        if message is None:
            raise
        print(message, file=sys.stderr)
        return 2


def _setup_problem(exc: Exception) -> str | None:
    from fupin.core.errors import FupinError

    if isinstance(exc, FupinError):
        return exc.message
    if isinstance(exc, RuntimeError) and "FUPIN_" in str(exc):
        return f"{exc}（例如：export FUPIN_SECRET_KEY=<随机长字符串>）"
    name = type(exc).__name__
    if name == "ImproperlyConfigured":
        return f"配置有误：{exc}；请检查 FUPIN_* 环境变量"
    if name == "OperationalError":
        return f"无法使用数据库：{exc}；请检查 FUPIN_DATABASE_URL，或先运行 fupin migrate"
    return None


if __name__ == "__main__":
    sys.exit(main())
