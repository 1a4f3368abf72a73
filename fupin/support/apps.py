from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "fupin.support"
    label = "support"
    verbose_name = "对口支援"
