from django.apps import AppConfig


class CharityConfig(AppConfig):
    name = "fupin.charity"
    label = "charity"
    verbose_name = "社会捐赠与慈善项目"
