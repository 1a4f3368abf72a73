"""The PostgreSQL pass of `dev.py test` keeps the tests that reach the database (ADR 0023)."""
from types import SimpleNamespace

import pytest

from .conftest import pytest_collection_modifyitems


class Item:
    def __init__(self, name, fixtures=(), markers=()):
        self.name, self.fixturenames, self.markers = name, list(fixtures), set(markers)

    def get_closest_marker(self, name):
        return SimpleNamespace(name=name) if name in self.markers else None


def items():
    return [Item("pure"), Item("with db", ["world", "db"]), Item("marked", markers=["django_db"]),
            Item("browser", ["live_server", "browser"], ["browser"]), Item("own server", markers=["database"]),
            Item("live server", ["transactional_db", "live_server"])]


def run(monkeypatch, value):
    if value is None:
        monkeypatch.delenv("FUPIN_TEST_DATABASE_PASS", raising=False)
    else:
        monkeypatch.setenv("FUPIN_TEST_DATABASE_PASS", value)
    left = []
    config = SimpleNamespace(hook=SimpleNamespace(pytest_deselected=lambda items: left.extend(items)))
    given = items()
    pytest_collection_modifyitems(config, given)
    return [i.name for i in given], [i.name for i in left]


def test_the_postgresql_pass_runs_what_reaches_the_database_and_the_marked(monkeypatch):
    assert run(monkeypatch, "1") == (["with db", "marked", "own server", "live server"], ["pure", "browser"])


@pytest.mark.parametrize("value", [None, "0"])
def test_every_other_run_keeps_every_test(monkeypatch, value):
    assert run(monkeypatch, value) == (["pure", "with db", "marked", "browser", "own server", "live server"], [])
