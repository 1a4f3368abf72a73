from django.apps import AppConfig


class PairingConfig(AppConfig):
    name = "fupin.pairing"
    label = "pairing"
    verbose_name = "结对帮扶"

    def ready(self):
        from fupin.registry.views import HOUSEHOLD_SECTIONS

        from .selectors import household_section

        HOUSEHOLD_SECTIONS.append(("pairing/partials/household.html", household_section))
