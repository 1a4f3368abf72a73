from django.urls import path

from . import aid_views, college_views, learning_views

# The college-student database; the semester runs' pages are listed in fupin/urls.py.
urlpatterns = [
    path("college/", college_views.students),
    path("college/<int:pk>/", college_views.student),
    path("aid/", aid_views.applications),
    path("aid/<int:pk>/", aid_views.application),
    path("aid/notice/", aid_views.notice),
    path("aid/payments.xlsx", aid_views.payments),
    path("aid/measures/", aid_views.measures),
    path("learning/", learning_views.pairs),
    path("learning/ranking/", learning_views.ranking),
    path("learning/<int:pk>/", learning_views.pair_page),
]
