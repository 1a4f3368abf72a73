from django.urls import path

from . import views

urlpatterns = [
    path("", views.library),
    path("export.xlsx", views.library_export),
    path("allocations.pdf", views.allocation_notice),
    path("allocations/publish/", views.allocation_publish),
    path("allocations/public/<str:token>/", views.allocation_public),
    path("new/", views.project_new),
    path("public/<str:token>/", views.public_page),
    path("photos/<int:pk>/", views.photo),
    path("support/", views.support_page),
    path("support/<str:action>/", views.support_action),
    path("<int:pk>/", views.project_page),
    path("<int:pk>/notice.pdf", views.project_notice),
    path("<int:pk>/<str:action>/", views.project_action),
]
