"""What the citizen portal writes: a request with its photos, and the citizen's rating.

The portal acts as one service user ("portal", a call taker who cannot log in), so the
ordinary operations check and record its writes like anyone else's. Nothing commits here.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from hotline.auth.models import User
from hotline.auth.operations import service_user
from hotline.categories.models import Category
from hotline.citizens.operations import normalize_phone, set_sms_preference
from hotline.core import files
from hotline.core.base import utcnow
from hotline.core.errors import Conflict, Invalid, NotFound
from hotline.core.fields import Fields
from hotline.extensions import db
from hotline.tickets.operations.actions import perform
from hotline.tickets.operations.attachments import add_attachment
from hotline.tickets.models import Ticket, TicketEvent
from hotline.tickets.operations import NUMBER_SHAPE, record_event, register_ticket
from workflows.states import Action, TicketStatus
from workflows.vocabulary import Satisfaction, TicketType

PORTAL_USERNAME = "portal"
#: Stored as the service user's display name: what staff read as the author of portal events.
PORTAL_DISPLAY_NAME = "市民网站 (citizen portal)"
#: The kinds of case a citizen may submit (repair requests go through the utilities' own lines).
PORTAL_TYPES = (TicketType.CONSULTATION, TicketType.HELP, TicketType.COMPLAINT, TicketType.REPORT,
                TicketType.SUGGESTION, TicketType.PRAISE)
#: What a citizen may say about the answer (the centre's "unreachable" is not theirs to choose).
CITIZEN_RATINGS = (Satisfaction.SATISFIED, Satisfaction.BASICALLY_SATISFIED, Satisfaction.DISSATISFIED)
#: Orders the citizen may rate: answered, awaiting the return visit or closed.
RATEABLE = (TicketStatus.AWAITING_VISIT, TicketStatus.CLOSED)
#: The event that carries a citizen's rating (satisfaction, resolved) in its data.
RATING_EVENT = "citizen-rating"
MAX_PHOTOS = 5
SUBJECT_LEN = 40


def portal_user() -> User:
    """The portal's service user, created in the current transaction if missing."""
    return service_user(PORTAL_USERNAME, PORTAL_DISPLAY_NAME)


# -- submitting a request -------------------------------------------------------------------

def _photo_kind(photo) -> str | None:
    """The image type of an uploaded file from its first bytes (the stream is rewound)."""
    head = photo.stream.read(16)
    photo.stream.seek(0)
    kind = files.sniff(head, photo.filename or "")
    return kind if kind and kind.startswith("image/") else None


def check_request(form, photos) -> dict[str, str]:
    """Every problem with a portal form, by field name; writes nothing."""
    f = Fields({k: form.get(k) for k in ("type", "category", "description", "address", "lat", "lon",
                                          "name", "phone")})
    kind = f.choice("type", TicketType, required=True)
    if kind is not None and kind not in PORTAL_TYPES:
        f.error("type", _("Choose one of the listed kinds of request."))
    f.text("description", required=True, max_len=5000)
    f.text("address", max_len=255)
    f.number("lat", low=-90, high=90)
    f.number("lon", low=-180, high=180)
    f.text("name", max_len=80)
    phone = f.text("phone", max_len=40)
    if phone is None and "phone" not in f.errors:
        f.error("phone", _("Enter your phone number: you need it to check the progress later."))
    elif phone is not None and normalize_phone(phone) is None:
        f.error("phone", _("Not a phone number: use 5 to 20 digits, e.g. 13812345678."))
    code = f.text("category", max_len=20)
    if code is not None and db.session.scalar(
            sa.select(Category.id).where(Category.code == code, Category.is_active)) is None:
        f.error("category", _("Choose a category from the list."))
    if len(photos) > MAX_PHOTOS:
        f.error("photos", _("Attach at most %(n)d photos.", n=MAX_PHOTOS))
    elif any(_photo_kind(p) is None for p in photos):
        f.error("photos", _("Only photos (JPEG, PNG, GIF or WebP) can be attached; choose the photos again."))
    return f.errors


def _subject(description: str) -> str:
    line = description.strip().splitlines()[0].strip()
    return line if len(line) <= SUBJECT_LEN else line[:SUBJECT_LEN - 1] + "…"


#: register_ticket's field names -> the portal form's
_FIELD_NAMES = {"content": "description", "subject": "description", "citizen.phone": "phone",
                "citizen.name": "name", "file": "photos"}


def _form_fields(err: Invalid) -> Invalid:
    err.fields = {_FIELD_NAMES.get(k, k): v for k, v in err.fields.items()}
    return err


def submit_request(form, photos, *, at: datetime | None = None) -> Ticket:
    """Register a citizen's request from the portal form (channel web), with its photos."""
    errors = check_request(form, photos)
    if errors:
        raise Invalid(_("Some fields need fixing."), fields=errors)
    at = at or utcnow()
    description = form["description"].strip()
    data = {
        "type": form["type"], "channel": "web", "subject": _subject(description), "content": description,
        "category": form.get("category") or None, "address": form.get("address") or None,
        "lat": form.get("lat") or None, "lon": form.get("lon") or None,
        "citizen": {"name": form.get("name") or None, "phone": form["phone"]},
    }
    actor = portal_user()
    try:
        ticket = register_ticket(actor, data, at=at)
        for photo in photos:
            add_attachment(ticket, actor, photo.filename, photo.stream, at=at)
    except Invalid as err:
        raise _form_fields(err) from None
    set_sms_preference(ticket.citizen, form.get("sms") == "yes")
    return ticket


# -- tracking and rating ------------------------------------------------------------------

def find_for_citizen(number: str | None, phone: str | None, *, for_update: bool = False) -> Ticket | None:
    """The order with this number if `phone` is its citizen's; None for any mismatch alike."""
    number = (number or "").strip()
    normalized = normalize_phone(phone)
    if not NUMBER_SHAPE.fullmatch(number) or normalized is None:
        return None
    query = sa.select(Ticket).where(Ticket.number == number)
    if for_update:
        query = query.with_for_update(of=Ticket)
    ticket = db.session.scalar(query)
    if ticket is None or ticket.citizen is None or ticket.citizen.phone != normalized:
        return None
    return ticket


def choose_sms(number: str, phone: str, wants_sms: bool) -> Ticket:
    """The citizen, having looked up their order, starts or stops progress texts to their number."""
    ticket = find_for_citizen(number, phone, for_update=True)
    if ticket is None:
        raise NotFound(_("No order matches this number and phone number."))
    set_sms_preference(ticket.citizen, wants_sms)
    return ticket


def citizen_rating(ticket: Ticket) -> TicketEvent | None:
    """The citizen's rating of the current answer (a reopened order may be rated again)."""
    last_reopen = db.session.scalar(sa.select(sa.func.max(TicketEvent.id)).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.action == Action.REOPEN.value)) or 0
    return db.session.scalars(sa.select(TicketEvent).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.action == RATING_EVENT,
        TicketEvent.id > last_reopen).order_by(TicketEvent.id.desc())).first()


def rate_answer(number: str, phone: str, form, *, at: datetime | None = None) -> Ticket:
    """Record the citizen's rating: a public comment plus a `citizen-rating` event.

    The centre's return visit (the `visit` action) stays the official one; this is what
    the citizen said on the portal, shown to the centre next to it.
    """
    ticket = find_for_citizen(number, phone, for_update=True)
    if ticket is None:
        raise NotFound(_("No order matches this number and phone number."))
    f = Fields({k: form.get(k) for k in ("satisfaction", "resolved", "comment")})
    satisfaction = f.choice("satisfaction", Satisfaction, required=True)
    if satisfaction is not None and satisfaction not in CITIZEN_RATINGS:
        f.error("satisfaction", _("Choose one of the listed answers."))
    resolved = f.boolean("resolved", required=True)
    comment = f.text("comment", max_len=2000)
    if "satisfaction" in f.errors and form.get("satisfaction") in (None, ""):
        f.errors["satisfaction"] = _("Say how satisfied you are with the answer.")
    if "resolved" in f.errors and form.get("resolved") in (None, ""):
        f.errors["resolved"] = _("Say whether your problem was solved.")
    f.done()
    if ticket.status not in RATEABLE:
        raise Conflict(_("The order can be rated once it has been answered."))
    if citizen_rating(ticket) is not None:
        raise Conflict(_("You have already rated this answer. Thank you."))
    at = at or utcnow()
    actor = portal_user()
    with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "zh")):
        # staff read the record in the centre's language, whatever the citizen's
        locale = current_app.config.get("BABEL_DEFAULT_LOCALE", "zh")
        text = _("Citizen's rating on the portal: %(rating)s; problem solved: %(solved)s.",
                 rating=satisfaction.title_for(locale), solved=_("yes") if resolved else _("no"))
        if comment:
            text += " " + _("Comment: %(comment)s", comment=comment)
    perform(ticket, Action.COMMENT.value, actor, {"content": text, "internal": False}, at=at)
    record_event(ticket, actor, RATING_EVENT, at=at, from_status=ticket.status, to_status=ticket.status,
                 note=comment, data={"satisfaction": satisfaction.value, "resolved": resolved})
    db.session.flush()
    return ticket
