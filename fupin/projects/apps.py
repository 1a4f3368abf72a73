from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "fupin.projects"
    label = "projects"
    verbose_name = "扶贫项目库"

    def ready(self):
        from fupin.policy import labels   # the ledger's codes as read

        from .models import HousingKind

        labels.register("project.", lambda number: f"扶贫项目资金（项目 {number}）")
        labels.register("housing.", lambda kind: dict(HousingKind.choices).get(kind, "住房保障补助"))
        labels.register("dividend.", lambda _: "资产收益分红")
        labels.register("credit.", lambda _: "扶贫小额信贷贴息")
