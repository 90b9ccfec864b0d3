"""The texts of notices, one per template code, rendered in the recipient's language.

SMS texts stay short (one 70-character Chinese SMS where possible) and always carry the
order's number, so a handler can find it from the message alone.
"""
from __future__ import annotations

from functools import lru_cache

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

#: Notices that sound and flash on a department's open page (a new order, an urge), not only count.
ALERTING = frozenset({"dispatched", "urge", "urge_before_due", "sign_urge"})

#: code -> (subject, text). Parameters: number, title, department, due (and text: a progress note).
TEXTS = {
    "dispatched": (_l("New work order %(number)s"),
                   _l("New work order %(number)s for %(department)s: %(title)s. Sign for it by %(due)s.")),
    "reminder": (_l("Work order %(number)s is due soon"),
                 _l("Reminder: work order %(number)s (%(title)s) is due %(due)s.")),
    "sign_reminder": (_l("Work order %(number)s waits to be signed for"),
                      _l("Reminder: sign for work order %(number)s (%(title)s) by %(due)s.")),
    "sign_urge": (_l("Urge: sign for work order %(number)s"),
                  _l("Urge: work order %(number)s (%(title)s) was to be signed for by %(due)s. Please sign for "
                     "it at once.")),
    "urge": (_l("Urge: work order %(number)s is overdue"),
             _l("Urge: work order %(number)s (%(title)s) was due %(due)s. Please handle it at once.")),
    "urge_before_due": (_l("Urge: work order %(number)s"),
                        _l("Urge: please speed up work order %(number)s (%(title)s); it is due %(due)s.")),
    "escalation": (_l("Escalated: work order %(number)s"),
                   _l("Work order %(number)s of %(department)s, due %(due)s, is still open and has been "
                      "escalated to supervision.")),
    "returned": (_l("Work order %(number)s returned"),
                 _l("Work order %(number)s was returned by %(department)s; it waits for your review.")),
    "return_refused": (_l("Return of work order %(number)s refused"),
                       _l("The centre refused the return of work order %(number)s; please handle it.")),
    "reply_rejected": (_l("Reply to work order %(number)s rejected"),
                       _l("The centre rejected the reply to work order %(number)s; please reply again by %(due)s.")),
    "extension_approved": (_l("Extension for work order %(number)s approved"),
                           _l("The extension for work order %(number)s was approved; it is now due %(due)s.")),
    "extension_denied": (_l("Extension for work order %(number)s refused"),
                         _l("The extension for work order %(number)s was refused; it is still due %(due)s.")),
    "reply_approved": (_l("Reply to work order %(number)s approved"),
                       _l("The reply to work order %(number)s was approved.")),
    "progress": (_l("Progress on your request %(number)s"),
                 _l("Progress on your request %(number)s: %(text)s")),
    "survey": (_l("Your request %(number)s"),
               _l("Your request %(number)s has been answered. Are you satisfied? Reply 1 satisfied, 2 basically "
                  "satisfied, 3 not satisfied.")),
    "survey_thanks": (_l("Your request %(number)s"),
                      _l("Thank you: your answer about request %(number)s has been recorded.")),
    "survey_dissatisfied": (_l("Your request %(number)s"),
                            _l("Thank you: we are sorry request %(number)s was not handled to your satisfaction; "
                               "the hotline centre will look at it again.")),
    "sms_registered": (_l("Your request %(number)s"),
                       _l("Your message has been registered as request %(number)s; follow it on the hotline's website "
                          "with this number.")),
    "sms_appended": (_l("Your request %(number)s"),
                     _l("Your message has been added to your request %(number)s.")),
    # reports: parameters title, start, end, link (a bulletin); name, count, expected, p, start, end, link (a hotspot)
    "bulletin_ready": (_l("%(title)s is ready"),
                       _l("The bulletin %(title)s (%(start)s to %(end)s) is ready to download: %(link)s")),
    "hotspot": (_l("Hotspot: %(name)s"),
                _l("Hotspot: %(name)s received %(count)s orders from %(start)s to %(end)s, against %(expected)s "
                   "expected from its own history (p = %(p)s). See %(link)s")),
    "knowledge_expiry": (_l("Knowledge article ends: %(title)s"),
                         _l("The knowledge article “%(title)s” is valid until %(until)s; after that it answers no "
                            "caller. Renew or withdraw it: %(link)s")),
    "citizen_sms": (_l("Work order %(number)s: the citizen wrote"),
                    _l("The citizen sent a text message about work order %(number)s: %(text)s")),
}


def render(template: str, params: dict, locale: str | None) -> tuple[str, str]:
    """(subject, text) of `template` in `locale` (Chinese when the recipient has not chosen)."""
    subject, text = _formats(template, locale or "zh")
    return subject % params, text % params


@lru_cache(maxsize=256)
def _formats(template: str, locale: str) -> tuple[str, str]:
    """The translated format strings, looked up once per process (a sweep renders thousands)."""
    subject, text = TEXTS[template]
    with force_locale(locale):
        return str(subject), str(text)
