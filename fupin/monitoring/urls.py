from django.urls import path

from . import views

urlpatterns = [
    path("", views.home),
    path("errors/<str:token>/", views.error_workbook),
    path("batches/<int:pk>/", views.batch_page),
    path("warnings/", views.warnings_page),
    path("warnings/<int:pk>/", views.warning_page),
    path("warnings/<int:pk>/<str:action>/", views.warning_action),
    path("review/", views.review_page),
    path("review/<int:pk>/decide/", views.review_decide),
    path("declare/", views.declare),
    path("declarations/", views.declarations_page),
    path("declarations/<int:pk>/<str:action>/", views.declaration_action),
]
