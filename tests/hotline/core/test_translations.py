"""Every message the code can show has a Chinese translation, and the compiled catalogue is current."""
import subprocess
import sys
from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[3]
PO = ROOT / "hotline/translations/zh/LC_MESSAGES/messages.po"
MO = PO.with_suffix(".mo")


def _extract(tmp_path) -> set[str]:
    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "_l",
                    "-o", str(pot), "."], cwd=ROOT, check=True, capture_output=True)
    with pot.open("rb") as fh:
        return {_key(m.id) for m in read_po(fh) if m.id}


def _key(msgid) -> str:
    """Plural messages have a (singular, plural) id; the singular names them."""
    return msgid[0] if isinstance(msgid, (tuple, list)) else msgid


def _flat(string):
    return tuple(string) if isinstance(string, (tuple, list)) else string


def _translated(string) -> bool:
    return all(string) if isinstance(string, tuple) else bool(string)


def test_every_message_in_the_code_has_a_chinese_translation(tmp_path):
    with PO.open("rb") as fh:
        translated = {_key(m.id): m.string for m in read_po(fh) if m.id}
    missing = sorted(m for m in _extract(tmp_path) if not _translated(translated.get(m)))
    assert not missing, f"untranslated (run scripts/translations update, translate, compile): {missing}"


def test_compiled_catalogue_matches_the_po_file():
    with PO.open("rb") as fh:
        po = {_key(m.id): _flat(m.string) for m in read_po(fh) if m.id and _translated(m.string)}
    with MO.open("rb") as fh:
        mo = {_key(m.id): _flat(m.string) for m in read_mo(fh) if m.id}
    assert po == mo, "hotline/translations is out of date: run scripts/translations compile"
