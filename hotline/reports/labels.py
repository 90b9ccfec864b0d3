"""What the measures are called on the page, in the exports and on the drill-down list."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l, lazy_pgettext as _lp

#: Counts, rates and the drill-downs of the rates (the orders that fail them).
TITLES = {
    "intake": _l("Intake"),
    "direct": _l("Answered directly"),
    "dispatched_orders": _l("Dispatched orders"),
    "direct_rate": _l("Direct answer rate"),
    "dispatched": _l("Dispatched"),
    "signed_on_time": _l("Signed for on time"),
    "sign_late": _l("Not signed for on time"),
    "on_time_sign_rate": _l("On-time sign-for rate"),
    "contacted": _l("Citizen contacted in time"),
    "not_contacted": _l("Citizen not contacted in time"),
    "response_rate": _l("Response rate"),
    "returns": _l("Returns"),
    "return_rate": _l("Return rate"),
    "urged": _l("Urged orders"),
    "urges": _l("Urges"),
    "due": _lp("orders", "Due"),
    "replied_on_time": _l("Replied on time"),
    "not_on_time": _l("Not replied on time"),
    "on_time_completion_rate": _l("On-time completion rate"),
    "overdue": _l("Overdue orders"),
    "visits": _l("Return visits made"),
    "rated": _l("Rated visits"),
    "resolved": _l("Resolved"),
    "unresolved": _l("Not resolved"),
    "resolution_rate": _l("Resolution rate"),
    "satisfied": _l("Satisfied"),
    "not_satisfied": _l("Not satisfied"),
    "satisfaction_rate": _l("Satisfaction rate"),
    "reopened": _l("Reopened orders"),
    "reopen_rate": _l("Reopen rate"),
}
#: The figure a rate's drill-down lists: the orders that fail it.
RATE_DRILL = {
    "direct_rate": "direct",
    "on_time_sign_rate": "sign_late",
    "on_time_completion_rate": "not_on_time",
    "response_rate": "not_contacted",
    "return_rate": "returns",
    "resolution_rate": "unresolved",
    "satisfaction_rate": "not_satisfied",
    "reopen_rate": "reopened",
}
#: A count's drill-down, where it lists orders by another name (urges count urges; the list shows
#: the orders urged).
COUNT_DRILL = {"urges": "urged"}

SLICE_TITLES = {
    "department": _l("Department"),
    "district": _l("District"),
    "category": _l("Category"),
    "channel": _l("Channel"),
    "type": _l("Type"),
    "call_taker": _l("Call taker"),
}
KIND_TITLES = {"week": _l("Week"), "month": _l("Month"), "quarter": _l("Quarter"), "custom": _l("Custom range")}


def drill_measure(name: str) -> str:
    """The measure whose orders a figure named `name` drills down to."""
    return RATE_DRILL.get(name) or COUNT_DRILL.get(name) or name
