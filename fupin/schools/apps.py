from django.apps import AppConfig


class SchoolsConfig(AppConfig):
    name = "fupin.schools"
    label = "schools"
    verbose_name = "学校档案与教师"
