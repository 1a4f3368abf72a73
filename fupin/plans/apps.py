from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "fupin.plans"
    label = "plans"
    verbose_name = "年度计划与领导小组"
