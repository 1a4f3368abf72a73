"""The `fupin` command, run in-process against the test database."""
import io
import json
from pathlib import Path

from openpyxl import load_workbook

from fupin.cli.main import main
from fupin.registry.models import Person

from .test_import import row, xlsx


def test_id_check_json_and_exit_code(capsys):
    assert main(["id", "check", "--json", "11010519491231002x", "440524188001010014"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out == [
        {"id": "11010519491231002x", "normalized": "11010519491231002X", "valid": True, "error": None,
         "birth_date": "1949-12-31", "sex": "女"},
        {"id": "440524188001010014", "normalized": "440524188001010014", "valid": True, "error": None,
         "birth_date": "1880-01-01", "sex": "男"}]
    assert main(["id", "check", "--json", "110105194912310021"]) == 1
    assert json.loads(capsys.readouterr().out)[0]["error"] == "校验码错误：最后一位应为 X，实际为 1"


def test_import_dry_run_errors_and_export(world, tmp_path: Path, capsys):
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(xlsx([row(id_number="513435198001010112")]))
    errors = tmp_path / "errors.xlsx"
    assert main(["import", "households", str(bad), "--user", "county_officer", "--errors", str(errors)]) == 1
    assert "第2行R列（证件号码）：校验码错误：最后一位应为 4，实际为 2" in capsys.readouterr().err
    assert load_workbook(errors)["错误清单"]["E2"].value == "校验码错误：最后一位应为 4，实际为 2"
    good = tmp_path / "good.xlsx"
    good.write_bytes(xlsx([row()]))
    assert main(["import", "households", str(good), "--dry-run", "--user", "county_officer"]) == 0
    assert Person.objects.count() == 6
    assert main(["import", "households", str(good), "--user", "county_officer"]) == 0
    assert Person.objects.count() == 7
    out = tmp_path / "out.xlsx"
    assert main(["export", "households", "--region", "513435100000", "--user", "county_officer", str(out)]) == 0
    assert len(list(load_workbook(out).active.values)) == 1 + 5
    capsys.readouterr()
    assert main(["export", "households", "--region", "513436000000", "--user", "county_officer", str(out)]) == 2
    assert capsys.readouterr().err.strip() == "找不到区划 513436000000，或不在您的管辖范围内"


def test_calc_education_reads_stdin_and_never_touches_the_database(monkeypatch, capsys):
    case = {"region": "513435100200", "date": "2024-09-01", "stage": "junior", "semester": "autumn",
            "boarding": True, "registered_poor": True, "dibao": False, "tekun": False, "new_entrant": False, "fee": 0}
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps([case, {**case, "id": "b", "stage": "primary"}])))
    assert main(["calc", "education", "--pack", "sc-513435"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [(o["id"], o["total"]) for o in out] == [(None, "1125.00"), ("b", "1000.00")]
    item = next(i for i in out[0]["items"] if i["rule"] == "education.compulsory_living")
    assert (item["amount"], item["explanation"]["parameters"]["education.compulsory.boarding_living_per_year.junior"]["value"]) \
        == ("625.00", "1250.00")
    monkeypatch.setattr("sys.stdin", io.StringIO("{not json"))
    assert main(["calc", "education", "--pack", "sc-513435"]) == 2
    assert json.loads(capsys.readouterr().out) == {"error": "标准输入不是有效的 JSON：第1行第2列 Expecting property name enclosed in double quotes"}


def test_packs_list_and_show(capsys):
    assert main(["packs"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["cn-national", "gs-province", "hb-province", "hn-433127",
                                                   "sc-513435", "sc-province", "shili-2024"]
    assert main(["packs", "show", "sc-513435", "--date", "2024-09-01"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["parameters"]["education.college.entrant_aid"] == {
        "value": "4000.00", "from": "2017-09-01", "source": "《扶贫工作计划》（乡镇）：从201X年秋季学期起开始实施，对建档立卡贫困家庭新入学的全日制本专科学生，"
                  "按照每生每学年4000元的标准给予学费和生活费补助（学费资助2000元、生活费补助2000元）", "pack": "sc-513435"}


def test_serve_runs_a_sync_worker_per_core_beside_its_database_and_two_per_core_otherwise(monkeypatch):
    import os

    from fupin.cli.main import database_on_this_machine, gunicorn_command

    sqlite = {"ENGINE": "django.db.backends.sqlite3", "NAME": "x"}
    pg = {"ENGINE": "django.db.backends.postgresql", "NAME": "fupin", "HOST": "127.0.0.1"}
    assert [database_on_this_machine(db) for db in (
        sqlite, pg, pg | {"HOST": "localhost"}, pg | {"HOST": "::1"}, pg | {"HOST": "/run/postgresql"}, pg | {"HOST": ""},
        pg | {"HOST": "db.province"}, pg | {"HOST": "10.1.2.3"})] == [True] * 6 + [False] * 2
    monkeypatch.delenv("FUPIN_WORKERS", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    command = gunicorn_command("127.0.0.1:8000")   # the test database: SQLite, or PostgreSQL on loopback
    at = command.index("--workers")
    assert command[at:at + 6] == ["--workers", "4", "--worker-class", "sync", "--timeout", "120"]
    assert command[command.index("--bind") + 1] == "127.0.0.1:8000" and "--preload" in command
    monkeypatch.setenv("FUPIN_WORKERS", "5")
    assert gunicorn_command("0.0.0.0:80")[at + 1] == "5"


def test_a_database_url_may_name_a_local_socket_the_libpq_way(monkeypatch):
    from fupin.cli.main import database_on_this_machine
    from fupin.settings import _database

    monkeypatch.setenv("FUPIN_DATABASE_URL", "postgres://fupin@:5433/fupin?host=/run/postgresql")
    db = _database()
    assert (db["HOST"], db["PORT"], db["NAME"], db["USER"]) == ("/run/postgresql", "5433", "fupin", "fupin")
    assert database_on_this_machine(db)
    monkeypatch.setenv("FUPIN_DATABASE_URL", "postgres://fupin:p%40ss@db.province:5432/fupin")
    db = _database()
    assert (db["HOST"], db["PORT"], db["PASSWORD"]) == ("db.province", "5432", "p@ss") and not database_on_this_machine(db)


def test_the_served_app_is_loaded_whole_before_the_workers_fork():
    """`fupin.wsgi` is what gunicorn preloads in its master: the packs and the URLconf with every
    view module are loaded there, so no worker's first request pays for importing them."""
    import subprocess
    import sys

    code = ("import sys, fupin.wsgi; "
            "print(sorted(m for m in ('fupin.urls', 'fupin.api.v1', 'fupin.health.pages', 'fupin.schools.views') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**__import__("os").environ, "DJANGO_SETTINGS_MODULE": "fupin.settings"})
    assert out.stdout.strip() == "['fupin.api.v1', 'fupin.health.pages', 'fupin.schools.views', 'fupin.urls']"
