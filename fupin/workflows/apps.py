from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "fupin.workflows"
    label = "workflows"
    verbose_name = "识别、退出与监测流程"

    def ready(self):
        from fupin.registry.views import HOUSEHOLD_SECTIONS

        from .selectors import household_section

        HOUSEHOLD_SECTIONS.insert(0, ("workflows/partials/household.html", household_section))

        from fupin.registry.views import HOME_REMINDERS

        from .services import reminders
        HOME_REMINDERS.append(reminders)
