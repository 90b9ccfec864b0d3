"""Changing a deadline policy: one operation for the API and the administration page."""
from __future__ import annotations

import logging

from flask_babel import gettext as _

from hotline.auth.models import User
from hotline.core.fields import Fields
from hotline.extensions import db
from hotline.sla.models import SlaPolicy
from workflows.deadlines import Unit

log = logging.getLogger(__name__)


def update_policy(actor: User, policy: SlaPolicy, data: dict) -> SlaPolicy:
    """Set how long a step may take; new dispatches use it at once, existing deadlines stay."""
    f = Fields(data)
    amount = f.integer("amount", required=True, low=0, high=100000)
    unit = f.text("unit", max_len=20)
    if unit is not None and unit not in [u.value for u in Unit]:
        f.error("unit", _("Must be one of: %(values)s.", values=", ".join(u.value for u in Unit)))
    f.done()
    before = (policy.amount, policy.unit.value)
    policy.amount = amount
    if unit:
        policy.unit = Unit(unit)
    db.session.flush()
    log.info("SLA policy %s (%s/%s/%s) changed by %s from %s to %s", policy.id, policy.step, policy.urgency,
             policy.ticket_type, actor.username, before, (policy.amount, policy.unit.value))
    return policy
