from django.apps import AppConfig


class WhatifConfig(AppConfig):
    name = "fupin.whatif"
    label = "whatif"
    verbose_name = "政策测算"
