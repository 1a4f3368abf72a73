from django.urls import path

from . import views

urlpatterns = [
    path("", views.home),
    path("public/<str:token>/", views.public_account),
    path("export.xlsx", views.export),
    path("campaigns/<int:pk>/", views.campaign_page),
    path("donations/<int:pk>/receipt.pdf", views.receipt),
    path("grants/<int:pk>/<str:action>/", views.grant_action),
    path("<str:action>/", views.action),
]
