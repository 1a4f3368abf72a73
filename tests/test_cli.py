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
