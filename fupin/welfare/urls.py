from django.urls import path

from . import views

urlpatterns = [
    path("", views.home),
    path("apply/<int:household_pk>/", views.apply),
    path("applications/", views.applications),
    path("applications/<int:pk>/", views.application_page),
    path("enrolments/<int:pk>/", views.enrolment_page),
    path("enrolments/<int:pk>/<str:action>/", views.enrolment_action),
    path("rechecks/", views.rechecks),
    path("runs/", views.runs),
    path("runs/<int:pk>/", views.run_page),
    path("runs/<int:pk>/payments.xlsx", views.run_payments),
    path("runs/<int:pk>/<str:action>/", views.run_action),
]
