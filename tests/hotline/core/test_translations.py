"""Every message the code can show has a Chinese translation, the compiled catalogue is current, and
an English word with more than one sense in the interface always says which one (a context)."""
import subprocess
import sys
from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[3]
PO = ROOT / "hotline/translations/zh/LC_MESSAGES/messages.po"
MO = PO.with_suffix(".mo")


#: English words that mean different things in different places of the interface, and so different
#: Chinese: "From" is a caller (主叫号码) or the start of a date range (开始日期); "Number" an order's
#: number, a phone number or a service number; "Open" a state (未办结) or a verb (打开) ... Every use
#: of one says its sense with pgettext(context, word), so one translation can never serve two senses.
AMBIGUOUS = {"From", "To", "Until", "Number", "Answered", "Open", "Close", "Closed", "Order", "Return", "Visit",
             "Due", "Back", "Transfer", "Hold", "Record"}
KEYWORDS = ["-k", "_l", "-k", "_lp:1c,2", "-k", "lazy_pgettext:1c,2"]


def _messages(tmp_path) -> list:
    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", *KEYWORDS,
                    "-o", str(pot), "."], cwd=ROOT, check=True, capture_output=True)
    with pot.open("rb") as fh:
        return [m for m in read_po(fh) if m.id]


def _extract(tmp_path) -> set:
    return {_key(m.id, m.context) for m in _messages(tmp_path)}


def _key(msgid, context=None):
    """Plural messages have a (singular, plural) id; the singular names them. With its context."""
    return (context, msgid[0] if isinstance(msgid, (tuple, list)) else msgid)


def _flat(string):
    return tuple(string) if isinstance(string, (tuple, list)) else string


def _translated(string) -> bool:
    return all(string) if isinstance(string, tuple) else bool(string)


def test_every_message_in_the_code_has_a_chinese_translation(tmp_path):
    with PO.open("rb") as fh:
        translated = {_key(m.id, m.context): m.string for m in read_po(fh) if m.id}
    missing = sorted(m for m in _extract(tmp_path) if not _translated(translated.get(m)))
    assert not missing, f"untranslated (run scripts/translations update, translate, compile): {missing}"


def test_the_catalogue_holds_only_messages_the_code_shows(tmp_path):
    """A translation the code no longer asks for is a stale entry: it lets a test that looks for an old
    message (by its translation) pass while no page shows it any more."""
    with PO.open("rb") as fh:
        kept = {_key(m.id, m.context) for m in read_po(fh) if m.id}
    stale = sorted(kept - _extract(tmp_path), key=str)
    assert not stale, f"entries no code uses (run scripts/translations update, then compile): {stale}"


def test_compiled_catalogue_matches_the_po_file():
    with PO.open("rb") as fh:
        po = {_key(m.id, m.context): _flat(m.string) for m in read_po(fh) if m.id and _translated(m.string)}
    with MO.open("rb") as fh:
        mo = {_key(m.id, m.context): _flat(m.string) for m in read_mo(fh) if m.id}
    assert po == mo, "hotline/translations is out of date: run scripts/translations compile"


def test_words_with_two_senses_always_say_which(tmp_path):
    bare = sorted(f"{_key(m.id)[1]!r} at {', '.join(f'{path}:{line}' for path, line in m.locations)}"
                  for m in _messages(tmp_path) if _key(m.id)[1] in AMBIGUOUS and not m.context)
    assert not bare, ("an English word with more than one sense is used without saying which: write "
                      "pgettext(\"<sense>\", word) (lazy_pgettext in module constants) and translate each sense: "
                      + "; ".join(bare))


def test_the_ambiguity_check_catches_a_bare_word(tmp_path):
    """The check above reads contexts from templates and Python alike (a bare word would not slip by)."""
    source = tmp_path / "src"
    (source / "templates").mkdir(parents=True)
    (source / "templates" / "x.html").write_text('{{ _("From") }} {{ pgettext("call", "To") }}')
    (source / "x.py").write_text('_lp("date", "Closed")\n')
    (source / "babel.cfg").write_text("[python: **.py]\n[jinja2: templates/**.html]\n")
    pot = tmp_path / "x.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", *KEYWORDS,
                    "-o", str(pot), "."], cwd=source, check=True, capture_output=True)
    with pot.open("rb") as fh:
        found = {(m.context, m.id) for m in read_po(fh) if m.id}
    assert found == {(None, "From"), ("call", "To"), ("date", "Closed")}
