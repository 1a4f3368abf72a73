"""Every page within three clicks of each demo role's home page, read as text: no developer's code
on any of them (issue 13 §4). The browser walk (test_plain_browser) follows the navigation on a
phone; this one follows every link of those pages too, with Django's test client."""
import html
import re
from collections import deque

import pytest

from .test_plain_browser import demo_world, internal_codes  # noqa: F401  (fixture)

# links that answer with a file, change something or reveal a full number: not pages to read
pytestmark = pytest.mark.wording   # words, not the database: the SQLite pass reads them (ADR 0023)

NOT_PAGES = ("logout", "/static/", "reveal", "export", ".xlsx", ".pdf", "print", "download", "/errors/", "/media/")
SAME_PAGE = 2   # pages of one kind (/households/N/) read per role: their variety, not all of them
DEPTH = 3       # clicks from the home page
# a word of small Latin letters is a code ("industry", "jzfp", "actual") unless it is one of these:
# the demo's user names, the web address, the command that makes a token, a scenario file's keys
WORDS_ALLOWED = {"http", "https", "fupin", "token", "create", "name", "year", "parameters"}


def visible_text(page: str) -> str:
    page = re.sub(r"(?s)<(script|style)\b.*?</\1>|<!--.*?-->", " ", page)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def _walk(client, who: str, starts: list[str], allowed: set[str], problems: list[str]) -> int:
    """Read every page up to DEPTH clicks from `starts` as `who`; returns how many were read."""
    queue, seen, kinds, read = deque((u, 0) for u in starts), set(starts), {}, 0
    while queue:
        url, depth = queue.popleft()
        r = client.get(url, follow=True)
        if r.status_code != 200 or not r.get("Content-Type", "").startswith("text/html"):
            continue
        read += 1
        page = r.content.decode()
        text = visible_text(page)
        problems += [f"{who} {url}: {p}" for p in internal_codes(text)]
        problems += [f"{who} {url}: 英文代码 {text[max(0, m.start() - 20):m.end() + 20]!r}"
                     for m in re.finditer(r"(?<![A-Za-z0-9@./_-])[a-z]{3,}(?![A-Za-z0-9@./_-])", text)
                     if m.group(0) not in allowed]
        if depth == DEPTH:
            continue
        for link in re.findall(r'href="(/[^"#?]*)', page):
            kind = re.sub(r"\d+", "N", link)
            if link in seen or any(x in link for x in NOT_PAGES) or kinds.get(kind, 0) >= SAME_PAGE:
                continue
            seen.add(link)
            kinds[kind] = kinds.get(kind, 0) + 1
            queue.append((link, depth + 1))
    return read


def test_every_page_three_clicks_from_each_roles_home_reads_without_codes(client, demo_world):  # noqa: F811
    from fupin.core.models import User
    from fupin.demo import generator
    from fupin.workflows.models import Notice

    problems, read = [], {}
    allowed = WORDS_ALLOWED | {u for u, *_ in generator.demo_users(demo_world)}
    for username, _, role, _ in generator.demo_users(demo_world):
        if role in read:
            continue
        client.force_login(User.objects.get(username=username))
        read[role] = _walk(client, role, ["/"], allowed, problems)
        client.logout()
    # and what anyone may open without signing in: the sign-in page, the resident's declaration, a notice
    notice = Notice.objects.order_by("id").first()
    read["public"] = _walk(client, "public", ["/login/", "/monitoring/declare/", f"/public/notices/{notice.token}/"],
                           allowed, problems)
    assert problems == [], "\n".join(problems)
    # the walk did reach the pages: each role's home and what it links to, and the three public pages
    assert min(read.values()) >= 3 and sum(read.values()) >= 300, read
