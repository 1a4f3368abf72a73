from django.urls import path

from . import college_views

# The college-student database; the semester runs' pages are listed in fupin/urls.py.
urlpatterns = [
    path("college/", college_views.students),
    path("college/<int:pk>/", college_views.student),
]
