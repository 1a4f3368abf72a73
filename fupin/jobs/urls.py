from django.urls import path

from . import views

urlpatterns = [
    path("", views.my_jobs),
    path("<int:pk>/", views.job_page),
    path("<int:pk>/status/", views.job_status),
    path("<int:pk>/download/", views.job_download),
]
