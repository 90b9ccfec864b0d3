"""Every workspace's front page, in Chinese and in English: it loads, passes the audit and,
in Chinese, shows no untranslated text. The pages are the ones each role's navigation links
to (so a page appears here as soon as its link does), plus the citizen portal. In Chinese,
the pages the flows of the other tests already audit are left out, to keep the suite fast."""
import pytest

from tests.e2e.helpers import check, login

pytestmark = pytest.mark.e2e

#: Who looks around, and at what screen size: between them they reach every workspace.
VISITORS = [
    ("reviewer", {"width": 1280, "height": 800}),   # desk, work orders, supervision, reports
    ("admin", {"width": 1280, "height": 800}),      # administration
    ("handler", {"width": 375, "height": 812}),     # the department's phone workspace
]
PUBLIC = ["/portal", "/portal/track"]
#: Audited in Chinese by the flows (test_desk, test_centre, test_department, test_portal).
IN_FLOWS = {"/desk", "/tickets", "/m", "/portal", "/portal/track"}


def nav_links(page) -> list[str]:
    return page.eval_on_selector_all(
        "nav.main a[href]", "links => links.map(a => new URL(a.href).pathname)")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_workspace_in_both_languages(pages, new_ticket, lang):
    new_ticket()  # lists with an order in them
    browser_locale = "zh-CN" if lang == "zh" else "en-US"  # English chosen by the browser's language
    seen = set(IN_FLOWS) if lang == "zh" else set()
    for user, size in VISITORS:
        page = pages.new(**size, locale=browser_locale, mobile=size["width"] < 500)
        login(page, user)
        for path in nav_links(page):
            if path in seen:
                continue
            seen.add(path)
            response = page.goto(path)
            assert response.status < 400, f"{user} follows the navigation to {path}: {response.status}"
            assert page.evaluate("() => document.documentElement.lang").startswith(lang), path
            check(page, f"{lang}-{path.strip('/').replace('/', '-') or 'home'}")
    page = pages.new(width=375, height=812, locale=browser_locale, mobile=True)
    for path in PUBLIC if lang == "en" else ():
        response = page.goto(path)
        assert response.status < 400, f"{path}: {response.status}"
        check(page, f"{lang}-{path.strip('/').replace('/', '-')}")
    if lang == "en":
        assert {"/desk", "/tickets", "/m"} <= seen, f"workspaces missing from the navigation: {sorted(seen)}"
