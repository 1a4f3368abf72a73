from django.apps import AppConfig


class HealthConfig(AppConfig):
    name = "fupin.health"
    label = "health"
    verbose_name = "健康扶贫"

    def ready(self):
        from fupin.policy import labels   # the ledger's codes as read (the rules name the settlement's)

        labels.register("health.premium", "城乡居民医保参保资助")
