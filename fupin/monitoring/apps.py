from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "fupin.monitoring"
    label = "monitoring"
    verbose_name = "部门数据比对与预警"

    def ready(self):
        from fupin.registry.views import HOUSEHOLD_SECTIONS

        from .selectors import household_section

        HOUSEHOLD_SECTIONS.append(("monitoring/partials/household.html", household_section))
