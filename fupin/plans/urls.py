from django.urls import path

from . import views

urlpatterns = [
    path("", views.home),
    path("overdue/", views.overdue),
    path("schools/", views.school_gaps),
    path("bulletins/", views.bulletins),
    path("bulletins/<int:pk>/", views.bulletin_page),
    path("items/<int:pk>/done/", views.item_done),
    path("groups/<int:pk>/", views.group_page),
    path("<int:pk>/", views.plan_page),
    path("<int:pk>/items.xlsx", views.plan_export),
    path("<int:pk>/report/<str:kind>/", views.plan_report),
]
