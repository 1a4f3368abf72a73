"""The house's dependency rules, checked on the source (AST), so CI fails when one is broken:

1. `fupin/funds` is the only writer of the ledger: no other module creates transactions,
   entries or accounts (ARCHITECTURE.md "Money"; STYLE.md habit 4).
2. Domain rooms never import the outer rooms `fupin.api`, `fupin.cli`, `fupin.demo`.
3. `fupin.policy` imports no Django and nothing of ours outside `fupin.policy`.

An import-linter contract could say 2 and 3, but not 1 (a call, not an import); one small
AST scan says all three, without a new dependency.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "fupin"
LEDGER_MODELS = {"Transaction", "Entry", "Account"}
WRITES = {"create", "get_or_create", "update_or_create", "bulk_create"}
OUTER = ("fupin.api", "fupin.cli", "fupin.demo")
DOMAIN = ("core", "registry", "workflows", "funds", "education", "health", "pairing", "support", "exchange",
          "printing", "policy", "monitoring", "oversight", "labour", "welfare", "villages", "plans", "projects", "charity", "whatif")


def modules(under: Path):
    for path in sorted(under.rglob("*.py")):
        if "migrations" in path.parts:  # historical snapshots, run once by Django
            continue
        yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _imported(tree: ast.AST, path: Path):
    """Every module an import statement names (function-level imports too), made absolute."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield node.lineno, a.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1] + ([base] if base else []))
            yield node.lineno, base
            for a in node.names:  # `from fupin import api` imports fupin.api
                yield node.lineno, f"{base}.{a.name}"


def ledger_writes(source: str, path: str = "<src>") -> list[str]:
    """Where `source` creates ledger rows: `Entry(...)`, `Transaction.objects.create(...)`,
    `Account.objects.get_or_create(...)`, `Entry.objects.bulk_create(...)`, `insert_frame(Entry, …)`,
    whatever name the model was imported under."""
    tree = ast.parse(source, filename=path)
    names, mods = {}, set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").endswith("funds.models") or (
                isinstance(node, ast.ImportFrom) and node.level and node.module == "models" and "funds" in path):
            for a in node.names:
                if a.name in LEDGER_MODELS:
                    names[a.asname or a.name] = a.name
        elif isinstance(node, ast.ImportFrom) and (node.module or "").endswith("fupin.funds"):
            mods.update(a.asname or a.name for a in node.names if a.name == "models")
        elif isinstance(node, ast.Import):
            mods.update(a.asname for a in node.names if a.name == "fupin.funds.models" and a.asname)

    def model(expr) -> str | None:
        if isinstance(expr, ast.Name) and expr.id in names:
            return names[expr.id]
        if isinstance(expr, ast.Attribute) and expr.attr in LEDGER_MODELS and isinstance(expr.value, ast.Name) \
                and expr.value.id in mods:
            return expr.attr
        return None

    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        if model(f):
            found.append(f"{path}:{node.lineno} {model(f)}(…)")
        elif isinstance(f, ast.Attribute) and f.attr in WRITES and isinstance(f.value, ast.Attribute) \
                and f.value.attr == "objects" and model(f.value.value):
            found.append(f"{path}:{node.lineno} {model(f.value.value)}.objects.{f.attr}(…)")
        elif (getattr(f, "id", None) == "insert_frame" or getattr(f, "attr", None) == "insert_frame") \
                and node.args and model(node.args[0]):
            found.append(f"{path}:{node.lineno} insert_frame({model(node.args[0])}, …)")
    return sorted(found, key=lambda w: (int(w.split(" ")[0].rsplit(":", 1)[1]), w))


def test_the_scan_sees_every_way_of_writing_a_ledger_row():
    bad = """
from fupin.funds.models import Entry as E, Transaction, Account
from fupin.funds import models as fm
from fupin.core.bulk import insert_frame
t = Transaction.objects.create(kind="payment")
E.objects.bulk_create([E(transaction=t, account=a, amount=1)])
Account.objects.get_or_create(code="x")
fm.Account.objects.create(code="y")
insert_frame(fm.Entry, frame)
"""
    assert [w.split(" ", 1)[1] for w in ledger_writes(bad)] == [
        "Transaction.objects.create(…)", "Entry(…)", "Entry.objects.bulk_create(…)",
        "Account.objects.get_or_create(…)", "Account.objects.create(…)", "insert_frame(Entry, …)"]
    # and it is not blind: the ledger's own writer is found by the same scan
    funds = (PKG / "funds" / "services.py").read_text(encoding="utf-8")
    assert len(ledger_writes(funds, "fupin/funds/services.py")) >= 4


def test_only_funds_writes_the_ledger():
    offenders = []
    for path, _ in modules(PKG):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith("fupin/funds/"):
            continue
        offenders += ledger_writes(path.read_text(encoding="utf-8"), rel)
    assert offenders == [], "只有 fupin/funds 可以写资金账簿（交易、分录、科目）；请改用 fupin.funds.services：\n" \
                            + "\n".join(offenders)


@pytest.mark.parametrize("room", [r for r in DOMAIN if r != "policy"])
def test_domain_rooms_do_not_import_api_cli_or_demo(room):
    bad = [f"{path.relative_to(ROOT)}:{line} imports {name}" for path, tree in modules(PKG / room)
           for line, name in _imported(tree, path) if name.startswith(OUTER)]
    assert bad == []


def test_policy_imports_no_django_and_nothing_of_ours():
    bad = [f"{path.relative_to(ROOT)}:{line} imports {name}" for path, tree in modules(PKG / "policy")
           for line, name in _imported(tree, path)
           if name.split(".")[0] == "django" or (name.startswith("fupin") and not name.startswith("fupin.policy")
                                                  and name != "fupin")]
    assert bad == []
