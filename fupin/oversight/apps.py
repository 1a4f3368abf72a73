from django.apps import AppConfig


class OversightConfig(AppConfig):
    name = "fupin.oversight"
    label = "oversight"
    verbose_name = "作战图与问题整改"
