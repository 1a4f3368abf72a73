from django.urls import path

from . import admin_views

# Pairing administration; the helpers' and teams' own pages are listed in fupin/urls.py.
urlpatterns = [
    path("admin/", admin_views.admin),
    path("admin/teams/", admin_views.teams),
    path("unpaired/", admin_views.unpaired),
]
