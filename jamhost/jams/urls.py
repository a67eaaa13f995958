from django.urls import path, register_converter

from jamhost.jams import feeds, ics, reminder_views, views


class RowIdConverter:
    """A database id: at most 18 digits, so a longer number is a 404, not an integer
    overflow in the database driver."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(RowIdConverter, "rowid")

app_name = "jams"
urlpatterns = [
    path("", views.jam_list, name="list"),
    path("mine/", views.my_jams, name="mine"),
    path("new/", views.jam_create, name="create"),
    path("feeds/upcoming.atom", feeds.UpcomingJamsFeed(), name="feed_upcoming"),
    path("invites/<str:token>/", views.invite_accept, name="invite_accept"),
    path("jams/<slug:slug>/", views.jam_detail, name="detail"),
    path("jams/<slug:slug>/calendar.ics", ics.jam_calendar, name="calendar"),
    path("jams/<slug:slug>/remind/", reminder_views.rsvp, name="rsvp"),
    path("reminders/unsubscribe/<str:token>/", reminder_views.unsubscribe, name="unsubscribe"),
    path("jams/<slug:slug>/edit/", views.jam_edit, name="edit"),
    path("jams/<slug:slug>/schedule/", views.jam_schedule, name="schedule"),
    path("jams/<slug:slug>/unschedule/", views.jam_unschedule, name="unschedule"),
    path("jams/<slug:slug>/questions/", views.question_add, name="question_add"),
    path("jams/<slug:slug>/questions/reorder/", views.question_reorder, name="question_reorder"),
    path("jams/<slug:slug>/questions/<rowid:pk>/edit/", views.question_edit, name="question_edit"),
    path(
        "jams/<slug:slug>/questions/<rowid:pk>/delete/",
        views.question_delete,
        name="question_delete",
    ),
    path("jams/<slug:slug>/questions/<rowid:pk>/move/", views.question_move, name="question_move"),
    path("jams/<slug:slug>/invites/", views.invite_create, name="invite_create"),
    path(
        "jams/<slug:slug>/members/<rowid:user_id>/remove/",
        views.member_remove,
        name="member_remove",
    ),
]
