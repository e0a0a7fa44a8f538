"""Forum use cases, one module per use case; ``from forums import services`` keeps working.

Every write is here, one function per use case, in a transaction, raising a
``DomainError`` when a rule would break. Who may run a meeting is decided in
``access.can_run_forum``.
"""

from forums.services._common import DEFAULT_MEETING_LENGTH, MAX_TEXT, meeting_people
from forums.services.actions import action_add, action_update, overdue_digest_send
from forums.services.agenda import (
    agenda_item_add,
    agenda_item_move,
    agenda_item_remove,
    agenda_item_update,
    agenda_publish,
)
from forums.services.attendance import attendance_candidates, attendance_record, attendance_remove
from forums.services.decisions import (
    agency_leaves_case_decide,
    forum_decision_record,
    item_care_plan_agree,
    item_decision_record,
    meetings_discussing,
)
from forums.services.meetings import (
    meeting_mark_held,
    meeting_plan,
    meeting_reschedule,
    meetings_schedule_monthly,
    monthly_dates,
)
from forums.services.membership import membership_add, membership_check, membership_update
from forums.services.minutes import item_minutes_save, minutes_amend, minutes_approve
from forums.services.system_issues import system_issue_raise, system_issue_update

__all__ = [
    "DEFAULT_MEETING_LENGTH",
    "MAX_TEXT",
    "action_add",
    "action_update",
    "agency_leaves_case_decide",
    "agenda_item_add",
    "agenda_item_move",
    "agenda_item_remove",
    "agenda_item_update",
    "agenda_publish",
    "attendance_candidates",
    "attendance_record",
    "attendance_remove",
    "forum_decision_record",
    "item_care_plan_agree",
    "item_decision_record",
    "item_minutes_save",
    "meeting_mark_held",
    "meeting_people",
    "meeting_plan",
    "meeting_reschedule",
    "meetings_discussing",
    "meetings_schedule_monthly",
    "membership_add",
    "membership_check",
    "membership_update",
    "minutes_amend",
    "minutes_approve",
    "monthly_dates",
    "overdue_digest_send",
    "system_issue_raise",
    "system_issue_update",
]
