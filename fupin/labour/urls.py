from django.urls import path

from . import views

urlpatterns = [
    path("", views.home),
    path("import/", views.import_records),
    path("persons/<int:pk>/", views.person),
    path("courses/", views.courses),
    path("courses/<int:pk>/", views.course),
    path("audit/", views.subsidy_audit),
    path("posts/", views.posts),
]
