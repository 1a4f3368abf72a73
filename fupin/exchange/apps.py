from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "fupin.exchange"
    label = "exchange"
