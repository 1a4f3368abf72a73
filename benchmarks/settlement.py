#!/usr/bin/env python
"""Settlement benchmark (issue 5). Not a test: prints numbers and ratios measured in one run.

    .venv/bin/python benchmarks/settlement.py [--claims 1000000] [--http-claims 3000] [--open-seconds 30]
                                              [--history 500000] [--no-http] [--no-batch]

1. Single-claim computation p50 (target ≤ 0.5 ms), against the same claim through the
   JSON layer the window and CLI use.
2. Re-settling N claims in batch (vectorised, each patient's accumulators carried in claim
   order), target ≤ 5 s, and a sample of patients settled one by one must give identical results.
3. The REST settle endpoint on PostgreSQL, gunicorn with --preload as `fupin serve` runs it,
   starting from a ledger that already holds 1,000,000 entries (copied in with COPY): 8 clients
   back to back (target ≥ 160 claims/s, p95 ≤ 50 ms), then 64 windows with arrivals at
   100 claims/s, open loop (latency from each arrival; target p95 ≤ 50 ms); CPU per claim of the
   server and of PostgreSQL, and its ratio to the baseline of the same run (the same claims through
   the app in one process, no HTTP, no concurrency: this VM's speed varies by up to 2× by the hour);
   then an exact check: every accumulator and the ledger equal the sum of the settled claims, and
   every stored budget balance its entries' sum.
   Starts a throwaway PostgreSQL cluster (as `dev.py test` does).
   Run it alone (it is a big run): flock /tmp/bigbench.lock .venv/bin/python benchmarks/settlement.py
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import polars as pl  # noqa: E402

from fupin.policy.engine import run_case  # noqa: E402
from fupin.policy.money import max_fen  # noqa: E402  (balances as large as an amount may be)
from fupin.policy.packs import PackSet  # noqa: E402
from fupin.policy.rules import health  # noqa: E402

CLAIM = {"region": "990101000000", "discharge_date": "2024-06-01", "visit_type": "inpatient", "level": "county",
         "in_county": True, "referred": False, "categories": ["dibao", "registered_poor"],
         "total": "100000.00", "in_policy": "90000.00", "waivable": "200.00",
         "ytd": {"basic": "0", "ci_base": "0", "ci": "0", "assistance": "0", "topup": {"wsfp": "0", "yyax": "0"}},
         "fund_balances": {"wsfp": "1000000.00", "yyax": "1000000.00"}}


def claims_frame(n: int, seed: int = 3) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    patients = rng.integers(0, max(1, n // 3), n)
    total = rng.integers(50_000, 30_000_000, n)
    in_policy = total * rng.integers(60, 100, n) // 100
    return pl.DataFrame({
        "patient": patients, "seq": np.arange(n), "region": np.full(n, "990101000000"),
        "discharge_date": np.full(n, np.datetime64("2024-06-01")).astype("datetime64[D]"),
        "visit_type": np.full(n, "inpatient"), "level": np.full(n, "county"),
        "in_county": rng.random(n) < 0.9, "referred": rng.random(n) < 0.3,
        "tekun": rng.random(n) < 0.05, "dibao": rng.random(n) < 0.3, "registered_poor": rng.random(n) < 0.7,
        "monitored": rng.random(n) < 0.1, "total": total, "in_policy": in_policy,
        "waivable": in_policy * rng.integers(0, 3, n) // 100,
        "balance.wsfp": np.full(n, max_fen()), "balance.yyax": np.full(n, max_fen()),
    }).with_columns(pl.col("discharge_date").cast(pl.Date),
                    pl.col("visit_type").cast(pl.Enum(list(health.VISITS))), pl.col("level").cast(pl.Enum(list(health.LEVELS))))


def part_1_and_2(n: int):
    chain = PackSet.shipped().chain("shili-2024")
    model = health.model_for(chain, dt.date(2024, 6, 1))
    case = health.claim_to_case(CLAIM, ("wsfp", "yyax"))
    case["discharge_date"] = dt.date(2024, 6, 1)
    for _ in range(200):
        run_case(model, case, chain)
    lat = []
    for _ in range(3000):
        t = time.perf_counter()
        run_case(model, case, chain)
        lat.append(time.perf_counter() - t)
    layer = []
    for _ in range(1000):
        t = time.perf_counter()
        health.settle(chain, CLAIM)
        layer.append(time.perf_counter() - t)
    p50, l50 = statistics.median(lat), statistics.median(layer)
    print(f"1. single claim: p50 {p50 * 1000:.3f} ms, p95 {sorted(lat)[int(len(lat) * .95)] * 1000:.3f} ms "
          f"(target p50 ≤ 0.5 ms) | with the JSON claim layer {l50 * 1000:.3f} ms, ratio {l50 / p50:.2f}×")

    df = claims_frame(n)
    rounds = int(df.group_by("patient").len()["len"].max())
    t = time.perf_counter()
    out = health.settle_batch(chain, df)
    batch = time.perf_counter() - t
    parts = out.select(sum(pl.col(r) for r in ("health.waived", "health.basic", "health.critical_illness",
                                                "health.assistance", "health.absorbed", "health.topup.wsfp",
                                                "health.topup.yyax", "health.patient")) == pl.col("total")).to_series().all()
    print(f"2. batch: {n:,} claims of {df['patient'].n_unique():,} patients in {rounds} rounds: {batch:.2f} s "
          f"(target ≤ 5 s) = {n / batch:,.0f} claims/s | parts add up to the bill on every row: {parts}")
    # a sample of patients settled one by one, in claim order
    sample = out.filter(pl.col("patient").is_in(out["patient"].unique().head(200).to_list())).sort("patient", "seq")
    t = time.perf_counter()
    mismatches, last, ytd = 0, None, None
    for r in sample.iter_rows(named=True):
        if r["patient"] != last:
            last, ytd = r["patient"], {"basic": "0", "ci_base": "0", "ci": "0", "assistance": "0",
                                       "topup": {"wsfp": "0", "yyax": "0"}}
        cats = [c for c in health.CATEGORIES if r[c]]
        res = health.settle(chain, {**CLAIM, "categories": cats, "in_county": r["in_county"], "referred": r["referred"],
                                    "total": health.yuan(r["total"]), "in_policy": health.yuan(r["in_policy"]),
                                    "waivable": health.yuan(r["waivable"]), "ytd": ytd,
                                    "fund_balances": {"wsfp": health.yuan(max_fen()), "yyax": health.yuan(max_fen())}})
        mismatches += any(res["_fen"][k] != r[k] for k in res["_fen"])
        ytd = res["accumulators"]
    one = (time.perf_counter() - t) / sample.height
    print(f"   sample of {sample.height} claims settled one by one: {mismatches} differences (must be 0) | "
          f"one by one {one * 1000:.3f} ms/claim vs batch {batch / n * 1e6:.2f} µs/claim: batch is {one / (batch / n):.0f}× faster")


def _cpu_seconds(root: int) -> float:
    """User + system CPU of a process, its living children (gunicorn's workers, PostgreSQL's backends)
    and its children that have ended (a backend whose connection was recycled)."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0.0
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            f = open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(d) == root:
            total += sum(int(x) for x in f[11:15]) / tick   # utime stime cutime cstime
        elif int(f[1]) == root:
            total += (int(f[11]) + int(f[12])) / tick
    return total


def _seed(patients: int, history: int) -> tuple[str, list[str], int]:
    """The county (as the window tests build it), `patients` patients, a token for the window, and a
    ledger that already holds `history` × 2 entries of earlier settlements on the county's top-up
    fund, copied in with COPY (the fund's stored balance set to match; checked at the end). Those
    settlements were the patients' claims of 2023: each patient's figures of that year are there too,
    as in a county that has settled for a year (the planner knows the table's size: an empty table's
    statistics chose a scan of the whole table for the year-to-date read)."""
    import io

    from django.db import connection
    from django.utils import timezone

    from fupin.core import idcard
    from fupin.core import services as cs
    from fupin.core.models import Region, User
    from fupin.funds import services as funds
    from fupin.health.models import Hospital
    from fupin.health.services import fund_account, hospital_account
    from fupin.registry.models import Household, Person

    for code, name, level, parent in [("990000000000", "示例省", 1, None), ("990100000000", "示例市", 2, "990000000000"),
                                      ("990101000000", "示例县", 3, "990100000000"),
                                      ("990101100000", "示例镇", 4, "990101000000"),
                                      ("990101100200", "示例村", 5, "990101100000")]:
        Region.objects.create(code=code, name=name, level=level, parent_id=parent)
    hospital = Hospital.objects.create(code="H990101", name="示例县人民医院", region_id="990101000000", level="county")
    u = User.objects.create(username="his", role="hospital_window", region_id="990101000000",
                            password_changed_at=timezone.now())
    o = User.objects.create(username="o", role="county_officer", region_id="990101000000",
                            password_changed_at=timezone.now())
    fund = fund_account("990101000000", "wsfp", dt.date(2024, 1, 1))
    funds.budget_allocate(actor=o, budget=fund, amount=max_fen(), date=dt.date(2024, 1, 1), decision_id="A")
    token = cs.token_create(actor=u, user=u, name="bench")
    households = Household.objects.bulk_create([
        Household(number=f"P{i}", village_id="990101100200", attribute="general", main_cause="illness",
                  status="registered") for i in range(patients)])
    people = Person.objects.bulk_create([
        Person(household=h, name=f"患者{i}", id_number=idcard.make_id("513435", dt.date(1940, 1, 1) + dt.timedelta(days=i), 11),
               birth_date=dt.date(1940, 1, 1) + dt.timedelta(days=i), sex="M", relation="head", labour="lost")
        for i, h in enumerate(households)])
    # earlier settlements: history transactions, each (fund −x, hospital +x)
    rng = np.random.default_rng(7)
    draws = rng.integers(1, 10_000, history)
    with connection.cursor() as cur:
        cur.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM funds_transaction")
        first = cur.fetchone()[0]
    ids = np.arange(first, first + history)
    now = timezone.now().isoformat()
    txns = pl.DataFrame({"id": ids, "kind": "payment", "at": now, "date": "2023-06-01", "actor_id": u.pk,
                         "decision_type": "settlement", "decision_id": [f"H0:{i}" for i in range(history)],
                         "entitlement": "health.settlement", "period": "2023", "memo": "历史结算"})
    hosp = hospital_account(hospital)
    entries = pl.concat([pl.DataFrame({"transaction_id": ids, "account_id": fund.pk, "amount": -draws}),
                         pl.DataFrame({"transaction_id": ids, "account_id": hosp.pk, "amount": draws})])
    entries = entries.with_columns(entitlement=pl.lit(""), period=pl.lit(""))
    drawn = pl.DataFrame({"person_id": [people[i % patients].pk for i in range(history)], "amount": draws}) \
        .group_by("person_id").agg(pl.col("amount").sum())
    figures = pl.concat([drawn.with_columns(year=pl.lit(2023), key=pl.lit("topup.wsfp")),
                         *(drawn.with_columns(year=pl.lit(2023), key=pl.lit(k), amount=pl.col("amount") * m)
                           for k, m in (("basic", 9), ("ci_base", 4), ("ci", 2), ("assistance", 1)))])
    with connection.cursor() as cur:
        for table, frame in (("funds_transaction", txns), ("funds_entry", entries),
                             ("health_accumulator", figures.select("person_id", "year", "key", "amount"))):
            buf = io.BytesIO()
            frame.write_csv(buf, include_header=False)
            with cur.cursor.copy(f"COPY {table} ({', '.join(frame.columns)}) FROM STDIN WITH (FORMAT csv)") as copy:
                copy.write(buf.getvalue())
        cur.execute("SELECT setval(pg_get_serial_sequence('funds_transaction', 'id'), %s)", [int(ids[-1])])
        cur.execute("UPDATE funds_account SET balance = balance - %s WHERE id = %s", [int(draws.sum()), fund.pk])
        # a ledger that grew over the years has been vacuumed: the autovacuum of 1,000,000 fresh rows
        # would otherwise run during the measurement
        cur.execute("VACUUM ANALYZE")
    return token, [p.id_number for p in people], int(draws.sum())


def _claim_body(ids: list[str], n: int, prefix: str) -> bytes:
    """The n-th claim the benchmark settles (numbers unique by prefix), as the window's client sends it."""
    return json.dumps({"hospital": "H990101", "id_number": ids[(n * 7919) % len(ids)], "number": f"{prefix}{n}",
                       "visit_type": "inpatient", "discharge_date": "2024-06-01", "in_county": True,
                       "total": f"{20000 + n % 900}.00", "in_policy": "18000.00", "waivable": "100.00"}).encode()


def _in_process(token: str, ids: list[str], postmaster: int, n: int = 1000) -> float:
    """The baseline of this run: claims settled through the same WSGI app in this one process, one
    after another (no HTTP, no concurrency). This machine's speed varies by up to 2× from hour to hour,
    sometimes within minutes: the ratio of the served CPU per claim to this one removes the slow swings,
    not those between the baseline and the run. Returns CPU seconds per claim."""
    import io

    from fupin.wsgi import application

    def one(k: int):
        body = _claim_body(ids, k, "B")
        status = []
        out = application({"REQUEST_METHOD": "POST", "PATH_INFO": "/api/v1/settlements", "SERVER_NAME": "127.0.0.1",
                           "SERVER_PORT": "80", "HTTP_HOST": "127.0.0.1", "wsgi.input": io.BytesIO(body),
                           "CONTENT_LENGTH": str(len(body)), "CONTENT_TYPE": "application/json",
                           "HTTP_AUTHORIZATION": f"Bearer {token}", "wsgi.url_scheme": "http", "REMOTE_ADDR": "127.0.0.1",
                           "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.errors": sys.stderr}, lambda s, h: status.append(s))
        data = b"".join(out)
        if not status[0].startswith("201"):
            raise RuntimeError(f"{status[0]}: {data[:200]!r}")

    for k in range(50):
        one(k)
    cpu0, db0 = time.process_time(), _cpu_seconds(postmaster)
    for k in range(50, 50 + n):
        one(k)
    app, db = (time.process_time() - cpu0) / n, (_cpu_seconds(postmaster) - db0) / n
    print(f"   baseline, {n} claims through the app in this process: CPU per claim {app * 1000:.1f} ms + "
          f"PostgreSQL {db * 1000:.1f} ms = {(app + db) * 1000:.1f} ms")
    return app + db


def _client_cpu() -> float:
    """CPU seconds of this process and of its client processes that have ended."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _check(prefixes: tuple[str, ...]) -> str:
    """Every accumulator and the ledger equal the sum of the settled claims, exactly."""
    from collections import defaultdict

    from django.db import connection
    from django.db.models import Sum

    from fupin.funds import services as funds
    from fupin.funds.models import Entry
    from fupin.health.models import Accumulator, Claim, Hospital
    from fupin.health.services import fund_account, hospital_account

    changes, paid, to_hospital, n = defaultdict(int), 0, 0, 0
    for c in Claim.objects.filter(status="settled").only("accumulator_changes", "breakdown", "total").iterator():
        n += 1
        for k, v in c.accumulator_changes.items():
            changes[k] += v
        paid += c.breakdown["health.topup.wsfp"]
        to_hospital += c.total - c.breakdown["health.waived"] - c.breakdown["health.absorbed"]
    acc = dict(Accumulator.objects.filter(year=2024).values_list("key").annotate(s=Sum("amount")).values_list("key", "s"))
    fund = fund_account("990101000000", "wsfp", dt.date(2024, 6, 1))
    hosp = hospital_account(Hospital.objects.get(code="H990101"))
    window = Entry.objects.filter(transaction__decision_type="settlement", transaction__date__year=2024)
    fund_paid = -(window.filter(account=fund).aggregate(s=Sum("amount"))["s"] or 0)
    hospital_got = window.filter(account=hosp).aggregate(s=Sum("amount"))["s"] or 0
    with connection.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM (SELECT transaction_id FROM funds_entry GROUP BY transaction_id "
                    "HAVING SUM(amount) <> 0) x")
        unbalanced = cur.fetchone()[0]
        cur.execute("SELECT COUNT(*) FROM funds_entry")
        entries = cur.fetchone()[0]
    stored_ok = funds.balances_check() == []
    ok = ({k: v for k, v in acc.items() if v} == {k: v for k, v in changes.items() if v} and fund_paid == paid
          and hospital_got == to_hospital and unbalanced == 0 and stored_ok)
    return (f"{n:,} claims, ledger {entries:,} entries: accumulators = Σ claims' changes, fund paid = Σ top-ups "
            f"({paid / 100:,.2f} yuan), hospital received = Σ claims, every transaction balanced, stored balances "
            f"= ledger sums: {ok}")


def part_3(closed_claims: int, open_seconds: float, clients: int = 8, windows: int = 64, rate: float = 100.0,
           patients: int = 2000, history: int = 500_000, tcp: bool = False):
    """The REST settle endpoint on PostgreSQL under gunicorn (--preload, as `fupin serve`), starting
    from a ledger of 2 × `history` entries. The app reaches the database on this machine through its
    local socket, as a deployment with both on one machine does (docs/deploy-province.md); `tcp`:
    through 127.0.0.1 instead."""
    sys.path.insert(0, str(ROOT))
    from dev import Postgres  # the same throwaway cluster as the test command

    pg = Postgres()
    url = pg.__enter__()
    url = url if tcp else pg.socket_url
    print(f"   the app reaches PostgreSQL through {'127.0.0.1 (TCP)' if tcp else 'its local socket'}")
    try:
        os.environ.update(FUPIN_DATABASE_URL=url, FUPIN_SECRET_KEY="benchmark-only", DJANGO_SETTINGS_MODULE="fupin.settings",
                          FUPIN_ALLOWED_HOSTS="127.0.0.1")
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connections

        call_command("migrate", verbosity=0)
        t = time.perf_counter()
        token, ids, drawn = _seed(patients, history)
        print(f"3. seeded {patients:,} patients and {2 * history:,} ledger entries (COPY) in {time.perf_counter() - t:.1f} s")
        postmaster = int((pg.dir / "data" / "postmaster.pid").read_text().split()[0])
        base = _in_process(token, ids, postmaster)
        connections.close_all()
        port = 18765 + os.getpid() % 1000
        from fupin.cli.main import gunicorn_command   # as `fupin serve` runs it, access log included

        command = gunicorn_command(f"127.0.0.1:{port}")
        print(f"   gunicorn: {' '.join(command[command.index('--workers'):])}")
        server = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(200):
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=1)
                    break
                except Exception:
                    time.sleep(0.2)

            # the window's client, as lean as a load generator sharing the server's 2 cores can be: one
            # request per connection (gunicorn's sync workers answer one and close), the request's bytes
            # written at once, the answer read to its end, the connection closed at once (the worker
            # waits for that close before it takes the next claim). http.client cost twice the CPU.
            head = (f"POST /api/v1/settlements HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
                    "Content-Type: application/json\r\nConnection: close\r\nContent-Length: ")

            def post(n: int, prefix: str):
                body = _claim_body(ids, n, prefix)
                with socket.create_connection(("127.0.0.1", port), timeout=60) as conn:
                    conn.sendall(f"{head}{len(body)}\r\n\r\n".encode() + body)
                    answer = b"".join(iter(lambda: conn.recv(65536), b""))
                if not answer.startswith(b"HTTP/1.1 201 "):
                    raise RuntimeError(f"{answer[:200]!r}")

            for n in range(16):  # each worker's first requests (connections, caches), not measured
                post(n, "W")

            def measured(label, run):
                lat, errors, lock = [], [], threading.Lock()
                cpu0 = (_cpu_seconds(server.pid), _cpu_seconds(postmaster), _client_cpu())
                t0 = time.perf_counter()
                count = run(lat, errors, lock)
                wall = time.perf_counter() - t0
                app, db, cl = (_cpu_seconds(server.pid) - cpu0[0], _cpu_seconds(postmaster) - cpu0[1],
                               _client_cpu() - cpu0[2])
                lat.sort()
                print(f"   {label}: {count:,} claims in {wall:.1f} s = {count / wall:.0f} claims/s, "
                      f"p50 {lat[len(lat) // 2] * 1000:.1f} ms, p95 {lat[int(len(lat) * .95)] * 1000:.1f} ms, "
                      f"p99 {lat[int(len(lat) * .99)] * 1000:.1f} ms, errors {len(errors)}"
                      + (f" (first: {errors[0]})" if errors else ""))
                print(f"      CPU per claim: server {app / count * 1000:.1f} ms + PostgreSQL {db / count * 1000:.1f} ms "
                      f"= {(app + db) / count * 1000:.1f} ms (the load-generating client: {cl / count * 1000:.1f} ms) "
                      f"= {(app + db) / count / base:.2f}× the same claim in one process")

            def closed(lat, errors, lock):
                """Each client a process of its own, as each window is a machine of its own: as threads of
                this one process, a client whose answer had come waited for the others' Python to let go
                of the interpreter, and that wait was counted in its claim's time (in one run, alternated:
                p95/p50 1.20–1.32 as threads, 1.15–1.19 as processes)."""
                work = list(range(closed_claims))
                ctx = multiprocessing.get_context("fork")
                answers = ctx.Queue()

                def client(chunk):
                    mine, failed = [], []
                    for n in chunk:
                        t = time.perf_counter()
                        try:
                            post(n, "C")
                        except Exception as exc:
                            failed.append(str(exc))
                        mine.append(time.perf_counter() - t)
                    answers.put((mine, failed))
                procs = [ctx.Process(target=client, args=(work[k::clients],)) for k in range(clients)]
                for p in procs:
                    p.start()
                for _ in procs:
                    mine, failed = answers.get()
                    lat += mine
                    errors += failed
                for p in procs:
                    p.join()
                return closed_claims

            def open_loop(lat, errors, lock):
                total = int(open_seconds * rate)
                start = time.perf_counter() + 0.2
                counter = iter(range(total))

                def window_():
                    while True:
                        with lock:
                            n = next(counter, None)
                        if n is None:
                            return
                        due = start + n / rate   # arrivals on a fixed schedule: a late answer delays no arrival
                        time.sleep(max(0.0, due - time.perf_counter()))
                        try:
                            post(n, "O")
                        except Exception as exc:
                            with lock:
                                errors.append(str(exc))
                        with lock:
                            lat.append(time.perf_counter() - due)   # from its arrival, queueing included
                threads = [threading.Thread(target=window_) for _ in range(windows)]
                for th in threads:
                    th.start()
                for th in threads:
                    th.join()
                return total

            measured(f"{clients} clients back to back", closed)
            measured(f"{windows} windows, open loop at {rate:.0f} claims/s", open_loop)
        finally:
            server.terminate()
            server.wait()
        print(f"   check: {_check(('C', 'O', 'W'))}")
    finally:
        pg.__exit__(None, None, None)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--claims", type=int, default=1_000_000)
    ap.add_argument("--http-claims", type=int, default=3000, help="claims sent by the back-to-back clients")
    ap.add_argument("--open-seconds", type=float, default=30.0, help="how long the open-loop arrivals last")
    ap.add_argument("--history", type=int, default=500_000, help="earlier settlements in the ledger (2 entries each)")
    ap.add_argument("--no-http", action="store_true")
    ap.add_argument("--no-batch", action="store_true")
    ap.add_argument("--tcp", action="store_true", help="reach PostgreSQL through 127.0.0.1, not its local socket")
    args = ap.parse_args()
    if not args.no_batch:
        part_1_and_2(args.claims)
    if not args.no_http:
        part_3(args.http_claims, args.open_seconds, history=args.history, tcp=args.tcp)


if __name__ == "__main__":
    main()
