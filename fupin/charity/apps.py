from django.apps import AppConfig


class CharityConfig(AppConfig):
    name = "fupin.charity"
    label = "charity"
    verbose_name = "社会捐赠与慈善项目"

    def ready(self):
        from fupin.policy import labels   # the ledger's codes as read

        from .services import programme_label

        labels.register("charity.", programme_label)
