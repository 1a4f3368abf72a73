from io import StringIO

from django.core.management import call_command


def test_models_and_migrations_agree(db):
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert out.getvalue().strip() == "No changes detected"


def test_a_database_migrated_before_pairing_was_renamed_keeps_its_data(transactional_db):
    """Wave 1 named pairing assistance ``assistance``: its tables and migration rows are renamed, not recreated."""
    from django.db import connection

    from fupin.pairing.models import Unit
    from fupin.core.models import Region

    region = Region.objects.create(code="513435000000", name="甘洛县", level=3)
    Unit.objects.create(name="县财政局", region=region)
    tables = [t for t in connection.introspection.table_names() if t.startswith("pairing_")]
    with connection.cursor() as cur:    # put the database back as wave 1 left it
        for t in tables:
            cur.execute(f'ALTER TABLE "{t}" RENAME TO "assistance{t[len("pairing"):]}"')
        cur.execute("UPDATE django_migrations SET app = 'assistance' WHERE app = 'pairing'")
        cur.execute("UPDATE django_content_type SET app_label = 'assistance' WHERE app_label = 'pairing'")
    call_command("migrate", verbosity=0)
    assert sorted(t for t in connection.introspection.table_names() if t.startswith("pairing_")) == sorted(tables)
    assert not [t for t in connection.introspection.table_names() if t.startswith("assistance_")]
    assert list(Unit.objects.values_list("name", flat=True)) == ["县财政局"]
    with connection.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM django_migrations WHERE app = 'assistance'")
        assert cur.fetchone()[0] == 0
