"""What the browser tests do at every step: log in, take a screenshot, audit the page.

check(page, "name") is the usual step: a full-page screenshot, the axe-core audit
(serious and critical violations fail), and, on Chinese pages, the search for English
text that escaped translation. zh("English source") is what the Chinese page shows for a
string, so tests find labels and buttons by their visible text whatever the catalogue holds.
"""
from __future__ import annotations

import os
import re
import struct
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(os.environ.get("HOTLINE_E2E_SCREENSHOTS", ROOT / "build" / "screenshots"))
AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "password-123"

#: Set by the `pages` fixture: the server whose exceptions a step reports at once.
active_server = None


# -- the words on the page -------------------------------------------------------------------

_catalogue = None


def zh(text: str) -> str:
    """What the Chinese interface shows for the English source string `text`: tests find labels and
    buttons by what a person reads. A string the catalogue does not hold fails at once: every message
    the code shows is translated (tests/hotline/core/test_translations.py), so it is one the code no
    longer shows, and falling back to the English would let a test look for what no page says."""
    global _catalogue
    if _catalogue is None:
        from babel.support import Translations
        _catalogue = Translations.load(str(ROOT / "hotline" / "translations"), ["zh"])
    if text not in _catalogue._catalog:
        raise AssertionError(f"{text!r} is no message of the interface (not in the zh catalogue): the test "
                             "looks for a string no page shows, or run scripts/translations update")
    return _catalogue.gettext(text)


def field(page, label: str):
    """The form control labelled `label` (English source text; a trailing required "*" is fine)."""
    return page.get_by_label(re.compile(rf"^\s*{re.escape(zh(label))}\s*\*?\s*$"))


# -- test files ----------------------------------------------------------------------------

def tiny_png(width: int = 8, height: int = 8, rgb=(200, 30, 30)) -> bytes:
    """A real PNG (a red square), as a phone camera would send a photo."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


# -- logging in ------------------------------------------------------------------------------

def login(page, username: str, password: str = PASSWORD, *, next_path: str | None = None) -> None:
    """Log in through the form, as a person would; ends on the page the app sends them to."""
    page.goto("/login" + (f"?next={next_path}" if next_path else ""))
    page.get_by_label(re.compile("用户名|User name")).fill(username)
    page.get_by_label(re.compile("密码|Password")).fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("登录|Log in")).click()
    assert "/login" not in page.url, f"{username} is still on the login page: {visible_text(page)[:300]}"


def choose_language(page, name: str) -> None:
    """Switch the interface language from the user menu (中文 or English), as a person would."""
    if not page.locator("details.user-menu[open]").count():
        page.locator("details.user-menu > summary").click()
    with page.expect_navigation():
        page.locator("details.user-menu").get_by_role("button", name=name, exact=True).click()


# -- screenshots -----------------------------------------------------------------------------

def _test_slug() -> str:
    """tests/e2e/test_desk.py::test_x[sqlite] (call) -> test_desk-test_x-sqlite"""
    current = os.environ.get("PYTEST_CURRENT_TEST", "e2e").split(" ")[0]
    module, _, name = current.rpartition("::")
    slug = f"{Path(module).stem}-{name}" if module else name
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", slug).strip("-")


_counters: dict[str, int] = {}


def screenshot(page, name: str) -> Path:
    """Save a full-page PNG as build/screenshots/<test>/<nn>-<name>.png and return its path."""
    slug = _test_slug()
    _counters[slug] = _counters.get(slug, 0) + 1
    folder = SCREENSHOTS / slug
    if _counters[slug] == 1 and folder.exists():
        for old in folder.glob("*.png"):
            old.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{_counters[slug]:02d}-{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


# -- accessibility ---------------------------------------------------------------------------

#: axe-core rule sets run on every page: WCAG 2.1 A and AA, and axe's best practices.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
FAILING_IMPACTS = ("serious", "critical")


def axe_violations(page) -> list[dict]:
    """Run axe-core in the page; violations of any impact, as axe reports them."""
    if not AXE.exists():
        raise AssertionError(f"axe-core is not installed at {AXE}: run `npm ci --prefix tests/e2e` "
                             f"(scripts/test does)")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        AXE_TAGS)
    return result["violations"]


def audit(page) -> None:
    """Fail on serious or critical accessibility violations, listing each with where it is."""
    bad = [v for v in axe_violations(page) if v.get("impact") in FAILING_IMPACTS]
    if not bad:
        return
    lines = [f"accessibility audit of {page.url} found {len(bad)} serious/critical problem(s):"]
    for v in bad:
        lines.append(f"- [{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl'].split('?')[0]})")
        for node in v["nodes"][:5]:
            target = " ".join(str(t) for t in node["target"])
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            lines.append(f"    at {target}: {node['html'][:120]}  -- {summary[:220]}")
        if len(v["nodes"]) > 5:
            lines.append(f"    ... and {len(v['nodes']) - 5} more")
    raise AssertionError("\n".join(lines))


# -- translation -----------------------------------------------------------------------------

#: Text a person can meet on the page: text nodes (hidden ones too: they show up later), the
#: page title, and attributes read out or shown (placeholder, title, aria-label, alt, button
#: values). Skipped: scripts and styles, what the user typed, and anything marked as being in
#: another language (the "English" link carries lang="en").
_TEXT_JS = """() => {
  const out = [document.title];
  const inOtherLanguage = el => { const l = el.closest('[lang]'); return l && !l.lang.toLowerCase().startsWith('zh'); };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement;
    if (!el || !node.textContent.trim()) continue;
    if (el.closest('script, style, noscript, textarea') || inOtherLanguage(el)) continue;
    out.push(node.textContent.trim());
  }
  const attrs = ['placeholder', 'title', 'aria-label', 'alt', 'aria-description'];
  for (const el of document.body.querySelectorAll('*')) {
    if (inOtherLanguage(el)) continue;
    for (const a of attrs) { if (el.getAttribute(a)) out.push(el.getAttribute(a).trim()); }
    if (el.matches('input[type=submit], input[type=button], input[type=reset]') && el.value) out.push(el.value);
  }
  return out;
}"""

#: English words the Chinese interface may show as they are. Keep this short: each entry is
#: a decision that the word is not a missing translation.
ALLOWED_WORDS = {
    "API", "SLA", "CSV",                                          # names Chinese staff use as they are
    "PNG", "JPG", "JPEG", "GIF", "WebP", "PDF", "DOCX", "Word", "Excel",  # file types and the programs behind them
    "Ctrl", "Cmd", "Shift", "Alt", "Enter", "Tab", "Esc",         # keys, as printed on the keyboard
}
#: Test data, not interface text: the display names of the test world's users.
TEST_DATA_WORDS = {"call", "taker", "expert", "supervisor", "reviewer", "manager", "admin", "handler"}

_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
#: A token that is a code, number, path, address, file name or identifier, not a word.
_CODE = re.compile(r"""(?x)
    .*[0-9/@_\\.:#=&?].*      # has digits or the punctuation of paths, e-mails, file names, codes
  | [A-Z]{1,3}                # short capitals: a department code, a unit
""")


def english_runs(texts: list[str], extra_allowed: set[str] = frozenset()) -> list[str]:
    """Runs of English words in `texts` that are not allowed: each is probably untranslated."""
    allowed = {w.lower() for w in ALLOWED_WORDS | TEST_DATA_WORDS | set(extra_allowed)}
    found = set()
    for text in texts:
        # Chinese (any non-ASCII) text separates runs; within ASCII stretches, words are runs
        for stretch in re.split(r"[^\x00-\x7f]+", text):
            run: list[str] = []
            for token in [*stretch.split(), ""]:
                word = token.strip("()[]{}\"',;!?:.*-")
                if token and _WORD.fullmatch(word) and not _CODE.fullmatch(word):
                    run.append(word)
                    continue
                if any(len(w) > 1 and w.lower() not in allowed for w in run):
                    found.add(" ".join(run))
                run = []
    return sorted(found)


def visible_text(page) -> str:
    return page.evaluate("() => document.body.innerText")


def check_translated(page, extra_allowed: set[str] = frozenset()) -> None:
    """On a Chinese page, fail on English words that are not data, codes or allowed words."""
    lang = page.evaluate("() => document.documentElement.lang")
    if not lang.lower().startswith("zh"):
        return
    runs = english_runs(page.evaluate(_TEXT_JS), extra_allowed)
    if runs:
        raise AssertionError(f"untranslated text on {page.url} (shown in Chinese):\n"
                             + "\n".join(f"- {r!r}" for r in runs))


# -- keyboard --------------------------------------------------------------------------------

_FOCUSED_JS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  const ring = (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== 'none';
  return {name: el.name || el.id || el.textContent.trim().slice(0, 30), tag: el.tagName.toLowerCase(), ring};
}"""


def tab_through(page, presses: int) -> list[dict]:
    """Press Tab `presses` times; what got the focus each time, and whether the focus showed."""
    seen = []
    for _ in range(presses):
        page.keyboard.press("Tab")
        focused = page.evaluate(_FOCUSED_JS)
        if focused:
            seen.append(focused)
    unseen = [f["name"] for f in seen if not f["ring"]]
    assert not unseen, f"the keyboard focus is invisible on: {unseen}"
    return seen


# -- layout ----------------------------------------------------------------------------------

def assert_no_horizontal_scroll(page) -> None:
    width = page.viewport_size["width"]
    scroll = page.evaluate("() => document.documentElement.scrollWidth")
    if scroll > width:
        wide = page.evaluate("""w => [...document.querySelectorAll('body *')]
            .filter(el => el.getBoundingClientRect().right > w + 1)
            .slice(0, 8).map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
              + (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ').join('.') : '')
              + ' right=' + Math.round(el.getBoundingClientRect().right))""", width)
        raise AssertionError(f"{page.url} scrolls sideways at {width}px: scrollWidth is {scroll}; "
                             f"too wide: {wide}")


# -- one step of a flow ----------------------------------------------------------------------

def server_errors() -> None:
    if active_server is not None and active_server.errors:
        errors = list(active_server.errors)
        active_server.errors.clear()
        raise AssertionError("the server failed:\n" + "\n".join(errors))


#: Audit and translation findings of the running test; the `pages` fixture fails the test
#: with all of them once the flow has finished, so one run shows every page's problems.
findings: list[str] = []


def check(page, name: str, *, translated: bool = True, accessible: bool = True,
          extra_allowed: set[str] = frozenset()) -> Path:
    """A step of a flow: screenshot and no server error (else fail now), then the audit and the
    search for untranslated text (reported when the test ends)."""
    page.wait_for_load_state("load")
    path = screenshot(page, name)
    server_errors()
    status = page.evaluate("() => performance.getEntriesByType('navigation')[0]?.responseStatus || 0")
    if status >= 500:
        raise AssertionError(f"{page.url} answered {status}: {visible_text(page)[:500]}")
    for wanted, run in ((accessible, audit), (translated, lambda p: check_translated(p, extra_allowed))):
        if wanted:
            try:
                run(page)
            except AssertionError as err:
                findings.append(f"[step {path.stem}] {err}")
    return path
