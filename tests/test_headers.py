"""Response headers (CSP, HSTS, nosniff, Referrer-Policy, framing) and no asset from a CDN."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CDN = re.compile(r"cdn\.|unpkg|jsdelivr|cdnjs|googleapis|bootcdn|staticfile\.org", re.I)


def _csp(response) -> dict[str, str]:
    header = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part.strip() for part in header.split(";") if part.strip()}


@pytest.mark.parametrize("url", ["/login/", "/api/v1/docs", "/api/v1/openapi.json", "/static/fupin.js"])
def test_every_answer_carries_the_security_headers(client, db, url):
    r = client.get(url)
    assert r.status_code == 200
    csp = _csp(r)
    assert csp["default-src"] == "default-src 'self'"
    assert csp["script-src"] == "script-src 'self'"          # no inline script, no eval, no CDN
    assert csp["style-src"] == "style-src 'self'"
    assert csp["object-src"] == "object-src 'none'"
    assert csp["frame-ancestors"] == "frame-ancestors 'none'"
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "same-origin"
    assert r.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in r.headers   # plain HTTP: HSTS would lock users out


def test_the_policy_made_once_is_django_csps_own_and_follows_the_settings(client, db, settings):
    from csp.utils import build_policy
    for _ in range(2):   # the second answer reuses the header the first one built
        assert client.get("/login/").headers["Content-Security-Policy"] == build_policy()
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'self'"], "img-src": ["'self'", "data:"]}}
    r = client.get("/login/")
    assert _csp(r) == {"default-src": "default-src 'self'", "img-src": "img-src 'self' data:"}
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'self'"]}, "EXCLUDE_URL_PREFIXES": ["/login/"]}
    assert "Content-Security-Policy" not in client.get("/login/").headers


def test_error_pages_carry_the_headers_too(login):
    r = login("county_officer").get("/households/999999/")
    assert r.status_code == 404
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def _settings_with(env: dict) -> dict:
    base = {k: v for k, v in os.environ.items() if k not in (
        "FUPIN_HTTPS", "FUPIN_TRUSTED_PROXIES", "FUPIN_HSTS_SECONDS", "FUPIN_SSL_REDIRECT", "FUPIN_HSTS_SUBDOMAINS")}
    code = ("import json, django; from django.conf import settings; django.setup(); print(json.dumps({k: getattr("
            "settings, k, None) for k in ['SECURE_HSTS_SECONDS', 'SECURE_SSL_REDIRECT', 'SESSION_COOKIE_SECURE', "
            "'CSRF_COOKIE_SECURE', 'SECURE_PROXY_SSL_HEADER']}))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                         env={**base, "DJANGO_SETTINGS_MODULE": "fupin.settings", "FUPIN_TESTING": "1", **env})
    import json

    return json.loads(out.stdout.strip().splitlines()[-1])


def test_hsts_only_when_https_is_on():
    off = _settings_with({"FUPIN_HTTPS": "0"})
    assert off["SECURE_HSTS_SECONDS"] == 0 and off["SECURE_SSL_REDIRECT"] is False
    on = _settings_with({"FUPIN_HTTPS": "1"})
    assert on["SECURE_HSTS_SECONDS"] == 365 * 24 * 3600
    assert on["SECURE_SSL_REDIRECT"] is True
    assert on["SESSION_COOKIE_SECURE"] is True and on["CSRF_COOKIE_SECURE"] is True
    assert on["SECURE_PROXY_SSL_HEADER"] is None          # X-Forwarded-Proto is not trusted from anyone
    behind = _settings_with({"FUPIN_HTTPS": "1", "FUPIN_TRUSTED_PROXIES": "10.0.0.2"})
    assert behind["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]


def test_hsts_header_sent_over_https(client, db, settings):
    settings.SECURE_HSTS_SECONDS = 365 * 24 * 3600
    r = client.get("/login/", secure=True)
    assert r.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_api_docs_serve_their_own_swagger_ui(client, db):
    r = client.get("/api/v1/docs")
    html = r.content.decode()
    assert not CDN.search(html), CDN.search(html)
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert {"/static/ninja/swagger-ui-bundle.js", "/static/ninja/swagger-ui-init.js",
            "/static/ninja/swagger-ui.css"} <= set(assets)
    for url in assets:   # each copy is really served by the app, with the right type
        a = client.get(url)
        assert a.status_code == 200, url
        body = b"".join(a.streaming_content)
        assert len(body) > 0
        if url.endswith(".js"):
            assert a.headers["Content-Type"].split(";")[0] in ("text/javascript", "application/javascript")
    assert "<script>" not in html   # only script files and the JSON settings block


def test_static_files_cannot_escape_their_folders(client, db):
    assert client.get("/static/../settings.py").status_code in (400, 404)
    assert client.get("/static/%2e%2e/%2e%2e/fupin/settings.py").status_code in (400, 404)
    assert client.get("/static/").status_code == 404
    assert client.get("/static/nope.js").status_code == 404


def test_no_template_has_inline_script_or_cdn():
    """Inline code would be blocked by the CSP: every script is a file under /static/."""
    offenders = []
    for path in list((ROOT / "fupin").rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        if re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", text) or re.search(
                r"\son[a-z]+\s*=|javascript:|\sstyle\s*=", text, re.I) or CDN.search(text):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


PAGES = ["/", "/households/", "/regions/513435000000/", "/workflows/todo/", "/education/", "/funds/",
         "/exchange/", "/audit/", "/api/v1/docs"]


@pytest.mark.parametrize("role", ["county_officer", "county_admin", "auditor"])
def test_no_page_names_a_cdn(login, role):
    c = login(role)
    for url in PAGES:
        r = c.get(url, follow=True)
        assert r.status_code in (200, 403), (url, r.status_code)
        assert not CDN.search(r.content.decode()), url
