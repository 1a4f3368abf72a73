from django.apps import AppConfig


class VillagesConfig(AppConfig):
    name = "fupin.villages"
    label = "villages"
    verbose_name = "村级档案"
