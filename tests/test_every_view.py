"""Every URL the app serves, tried by someone who is not logged in and by a role with no
registry rights: nothing but the login page, the public notice page and the static files
answers with data. A view added without going through the access layer fails here."""
import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

# the self-declaration page is public by design (SPEC §3.5): it shows village names only and is throttled
PUBLIC = {"login/", "i18n/", "public/notices/<str:token>/", "api/v1/docs", "api/v1/openapi.json",
          "monitoring/declare/", "projects/public/", "charity/public/"}
SAMPLE = {"int": "1", "str": "513435000000", "path": "x"}


def _patterns(resolver=None, prefix=""):
    for p in (resolver or get_resolver()).url_patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            yield from _patterns(p, route)
        elif isinstance(p, URLPattern):
            yield route


def _url(route: str) -> str:
    route = route.lstrip("^").rstrip("$")
    return "/" + re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLE[m.group(1) or "str"], route)


ROUTES = sorted({r for r in _patterns() if not r.startswith(("static", "media", "^static", "^media"))})


def test_the_sweep_sees_the_app():
    assert len(ROUTES) > 60 and "households/<int:pk>/" in ROUTES


@pytest.mark.parametrize("route", ROUTES)
def test_anonymous_gets_no_data(route, client, world):
    if any(route.startswith(p) for p in PUBLIC):
        return
    url = _url(route)
    for method in ("get", "post"):
        r = getattr(client, method)(url)
        if url.startswith("/api/"):
            assert r.status_code in (401, 404, 405), (method, url, r.status_code)
        else:
            assert r.status_code in (302, 403, 404, 405), (method, url, r.status_code)
            if r.status_code == 302:
                assert r["Location"].startswith("/login/"), (method, url, r["Location"])


# What a role with no registry rights may open (its own work, its account, the home page).
OPEN_TO_SUPPORT_STAFF = {"", "account/", "password/", "logout/", "support/", "support/members/<int:pk>/",
                         "support/bulletin/<str:month>/",
                         "jobs/",  # 我的任务: the user's own background jobs only (another's job is a 404)
                         "notify/"}  # 我的提醒: the user's own reminders and opt-in only (issue #22)


@pytest.mark.parametrize("route", ROUTES)
def test_a_role_without_registry_rights_sees_no_registry_data(route, client, world):
    if any(route.startswith(p) for p in PUBLIC) or route.startswith("api/"):
        return
    client.force_login(world.users["support_staff"])
    r = client.get(_url(route))
    if route in OPEN_TO_SUPPORT_STAFF or route.startswith("account/"):
        return
    assert r.status_code in (302, 400, 403, 404, 405), (route, r.status_code)
    if r.status_code == 302:
        assert not r["Location"].startswith(("/households", "/regions")), (route, r["Location"])


@pytest.mark.parametrize("role", ["county_admin", "county_officer", "township_officer", "village_cadre", "pairing_helper",
                                  "school_aid", "hospital_window", "health_officer", "civil_affairs", "inspector",
                                  "auditor", "medical_affairs", "support_staff"])
def test_every_role_lands_on_a_page_it_may_open_without_a_false_refusal(role, client, world):
    from fupin.core.models import AuditEvent, AuditResult
    client.force_login(world.users[role])
    r = client.get("/", follow=True)
    # the crafted world registers no helper and no seconded doctor: their pages say so plainly
    unregistered = {"pairing_helper": "您的账户没有对应的帮扶责任人", "support_staff": "您还没有派驻安排"}
    if role in unregistered:
        assert (r.status_code, unregistered[role] in r.content.decode()) == (404, True), role
    else:
        assert r.status_code == 200, (role, r.redirect_chain)
    assert not AuditEvent.objects.filter(actor=world.users[role], result=AuditResult.DENIED).exists(), role
