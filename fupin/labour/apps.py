from django.apps import AppConfig


class LabourConfig(AppConfig):
    name = "fupin.labour"
    label = "labour"
    verbose_name = "劳动力、就业与培训"

    def ready(self):
        from fupin.policy import labels   # the ledger's codes as read

        labels.register("labour.public_job", "公益性岗位补贴")
        from fupin.registry.views import HOUSEHOLD_SECTIONS

        from .selectors import household_section

        HOUSEHOLD_SECTIONS.append(("labour/partials/household.html", household_section))
