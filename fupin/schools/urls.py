from django.urls import path

from . import views

urlpatterns = [
    path("", views.school_list),
    path("export.xlsx", views.register_export),
    path("template.xlsx", views.register_template),
    path("import/", views.register_import),
    path("errors/<str:token>/", views.error_workbook),
    path("teachers/", views.teachers),
    path("teachers/import/", views.teacher_import),
    path("teachers/template.xlsx", views.teacher_template),
    path("rates/", views.rates),
    path("lianghou/", views.lianghou),
    path("duties/", views.duties),
    path("<str:code>/", views.school_page),
]
