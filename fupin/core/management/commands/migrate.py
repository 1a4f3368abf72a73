"""Django's migrate, after renaming the tables of rooms that changed name (see fupin.core.legacy)."""
from django.core.management.commands.migrate import Command as DjangoMigrate
from django.db import connections

from fupin.core.legacy import rename_legacy_apps


class Command(DjangoMigrate):
    def handle(self, *args, **options):
        rename_legacy_apps(connections[options["database"]])
        return super().handle(*args, **options)
