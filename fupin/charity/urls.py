from django.urls import path

from . import views

urlpatterns = [
    path("", views.home),
    path("public/<str:token>/", views.public_account),
    path("export.xlsx", views.export),
    path("campaigns/<int:pk>/", views.campaign_page),
    path("donations/<int:pk>/receipt.pdf", views.receipt),
    path("grants/<int:pk>/<str:action>/", views.grant_action),
    path("objections/<int:pk>/<str:action>/", views.objection_action),
    path("notice.pdf", views.grant_notice),
    path("public/notice/<str:token>/", views.notice_public),
    path("classes/<int:pk>/", views.class_page),
    path("classes/<int:pk>/statement.pdf", views.class_statement_pdf),
    path("sponsor/<str:token>/", views.sponsor_page),
    path("<str:action>/", views.action),
]
