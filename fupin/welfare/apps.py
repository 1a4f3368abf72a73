from django.apps import AppConfig


class WelfareConfig(AppConfig):
    name = "fupin.welfare"
    label = "welfare"
    verbose_name = "社会救助"

    def ready(self):
        from fupin.policy import labels   # the ledger's codes as read

        from .models import Programme

        labels.register("welfare.", lambda programme: dict(Programme.choices).get(programme, "社会救助"))
        from fupin.registry.views import HOUSEHOLD_SECTIONS

        from .selectors import household_benefits
        from .services import may_start

        HOUSEHOLD_SECTIONS.append(("welfare/partials/household.html",
                                   lambda user, h: {"benefits": household_benefits(user, h), "household_id": h.pk,
                                                    "may_apply": may_start(user)}))
