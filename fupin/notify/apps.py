from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "fupin.notify"
    label = "notify"
    verbose_name = "到期提醒"
