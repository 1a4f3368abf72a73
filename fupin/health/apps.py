from django.apps import AppConfig


class HealthConfig(AppConfig):
    name = "fupin.health"
    label = "health"
    verbose_name = "健康扶贫"
