import re
import pytest
from .test_browser import browser, sign_in  # noqa
from .test_plain_browser import demo_world, internal_codes  # noqa

def test_crawl(live_server, demo_world, browser):
    from fupin.demo import generator
    out = []
    for username in ["county", "township"]:
        ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, locale="zh-CN")
        page = ctx.new_page(); page.set_default_timeout(15000)
        sign_in(page, live_server.url, username, generator.DEMO_PASSWORD)
        todo = ["/pairing/compliance/", "/pairing/pairs/", "/pairing/team/", "/workflows/announcement/", "/health/window/", "/monitoring/warnings/1/"] + [page.url[len(live_server.url):]] + page.eval_on_selector_all("header nav a", "els => els.map(e => e.getAttribute('href'))")
        seen = set(); n = 0
        while todo and n < 60:
            u = todo.pop(0)
            key = re.sub(r"\d+", "N", u.split("?")[0])
            if key in seen or not u.startswith("/") or u.endswith((".pdf", ".xlsx", ".csv")) or "logout" in u or "/api/" in u or "/i18n/" in u or "/reveal/" in u or "format=" in u or ".xlsx" in u or "/cards/" in u:
                continue
            seen.add(key); n += 1
            r = page.goto(live_server.url + u)
            w = page.evaluate("document.body.scrollWidth")
            probs = internal_codes(page.inner_text("body"))
            out.append(f"{username} {u} {r.status} w={w} " + " | ".join(probs[:6]))
            if r.status == 200:
                todo += page.eval_on_selector_all("main a[href]", "els => els.map(e => e.getAttribute('href'))")
        ctx.close()
    open("/tmp/plain/crawl.txt", "w").write("\n".join(out))
