from django.urls import path

from . import views

urlpatterns = [
    path("", views.home),
    path("import/", views.activity_import),
    path("template.xlsx", views.activity_template),
    path("rates/", views.rates),
    path("rates/export.xlsx", views.figures_export),
    path("rates/template.xlsx", views.figures_template),
    path("rates/import/", views.figures_import),
    path("errors/<str:token>/", views.error_workbook),
]
