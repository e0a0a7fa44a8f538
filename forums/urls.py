from django.urls import path

from forums import views

app_name = "forums"

M = "meetings/<uuid:pk>/"
ITEM = M + "items/<int:item_id>/"

urlpatterns = [
    path("", views.forum_index, name="index"),
    path("<slug:kind>/meetings/new/", views.MeetingPlanView.as_view(), name="plan"),
    path("<slug:kind>/meetings/schedule/", views.ScheduleView.as_view(), name="schedule"),
    path(M, views.meeting_detail, name="meeting"),
    path(M + "change/", views.MeetingChangeView.as_view(), name="meeting_change"),
    path(M + "agenda/add/", views.AgendaAddView.as_view(), name="agenda_add"),
    path(M + "publish/", views.PublishView.as_view(), name="publish"),
    path(M + "held/", views.HeldView.as_view(), name="held"),
    path(M + "approve/", views.ApproveView.as_view(), name="approve"),
    path(M + "amend/", views.AmendView.as_view(), name="amend"),
    path(M + "attendance/", views.AttendanceView.as_view(), name="attendance"),
    path(
        M + "attendance/<int:attendance_id>/remove/",
        views.AttendanceRemoveView.as_view(),
        name="attendance_remove",
    ),
    path(ITEM, views.ItemView.as_view(), name="item"),
    path(ITEM + "settings/", views.ItemSettingsView.as_view(), name="item_settings"),
    path(ITEM + "move/", views.ItemMoveView.as_view(), name="item_move"),
    path(ITEM + "remove/", views.ItemRemoveView.as_view(), name="item_remove"),
    path(ITEM + "decisions/new/", views.DecisionView.as_view(), name="decision_add"),
    path(ITEM + "actions/new/", views.ActionAddView.as_view(), name="action_add"),
    path(ITEM + "care-plan/", views.ItemCarePlanView.as_view(), name="item_care_plan"),
    path(ITEM + "escalate/", views.EscalateView.as_view(), name="escalate"),
    path("actions/", views.action_log, name="actions"),
    path("actions/<uuid:pk>/", views.ActionView.as_view(), name="action"),
    path("issues/", views.issue_list, name="issues"),
    path("issues/new/", views.IssueNewView.as_view(), name="issue_new"),
    path("issues/<uuid:pk>/", views.IssueView.as_view(), name="issue"),
]
