from django.apps import AppConfig


class PubhealthConfig(AppConfig):
    name = "fupin.pubhealth"
    label = "pubhealth"
    verbose_name = "公共卫生项目"
