from django.urls import path

from . import views

urlpatterns = [
    path("", views.village_list),
    path("export.xlsx", views.village_export),
    path("template.xlsx", views.village_template),
    path("import/", views.village_import),
    path("errors/<str:token>/", views.error_workbook),
    path("exits/", views.village_exits),
    path("<str:code>/", views.village_page),
]
