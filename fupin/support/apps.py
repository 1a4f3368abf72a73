from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "fupin.support"
    label = "support"
    verbose_name = "对口支援"

    def ready(self):
        from fupin.policy import labels   # the ledger's codes as read

        from .models import SanctionKind

        fines = dict(SanctionKind.choices) | {"dept_assessment": "科室考核罚款", "refusal": "科室拒派罚款"}
        labels.register("support.fine.", lambda kind: fines.get(kind, "对口支援罚款"))
