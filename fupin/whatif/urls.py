from django.urls import path

from . import views

urlpatterns = [
    path("", views.scenario_list),
    path("<int:pk>/", views.scenario_page),
    path("<int:pk>/run/", views.scenario_run),
    path("<int:pk>/result.xlsx", views.result_workbook),
    path("<int:pk>/brief.pdf", views.result_brief),
    path("<int:pk>/households/", views.household_list),
    path("<int:pk>/households/<int:household_pk>/", views.household_page),
    path("<int:pk>/propose/", views.propose),
    path("proposals/<int:pk>/", views.proposal_page),
    path("proposals/<int:pk>/pack.yaml", views.proposal_pack),
]
