from django.urls import path

from . import report_views, views

urlpatterns = [
    path("", views.home),
    path("targets/", views.targets),
    path("targets/import/", views.targets_import),
    path("targets/template.xlsx", views.targets_template),
    path("problems/", views.problems),
    path("problems/new/", views.problem_new),
    path("problems/campaigns/new/", views.rectification_new),
    path("problems/from-audit/", views.problems_from_audit),
    path("problems/lookback/", views.lookback),
    path("problems/lookback/<int:pk>/", views.lookback_page),
    path("problems/<int:pk>/", views.problem_page),
    path("problems/<int:pk>/<str:action>/", views.problem_action),
    path("inspections/", views.inspections),
    path("inspections/<int:pk>/", views.inspection_page),
    path("inspections/<int:pk>/sheet/", views.inspection_sheet),
    path("inspections/<int:pk>/samples/<int:sample_pk>/", views.finding_save),
    path("reports/", report_views.catalogue),
    path("reports/open/", report_views.open_period),
    path("reports/<str:key>/<str:period>/", report_views.report),
    path("reports/<str:key>/<str:period>/report.xlsx", report_views.report_xlsx),
    path("reports/<str:key>/<str:period>/report.pdf", report_views.report_pdf),
    path("reports/<str:key>/<str:period>/<str:action>/", report_views.report_action),
    path("<str:code>/", views.board),
    path("<str:code>/refresh/", views.board_refresh),
    path("<str:code>/list/<str:key>/", views.indicator_list),
    path("<str:code>/list/<str:key>.xlsx", views.indicator_export),
]
