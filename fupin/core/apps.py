from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "fupin.core"
    label = "core"
    verbose_name = "基础"

    def ready(self):
        from . import democlock

        democlock.install()   # demo mode only: the demo clock (fupin demo clock +7d)
