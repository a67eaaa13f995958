from django.urls import path

from jamhost.audience import views

app_name = "audience"
urlpatterns = [
    path("jams/<slug:slug>/posts/<int:post_id>/vote/", views.vote, name="vote"),
    path("jams/<slug:slug>/posts/<int:post_id>/flag/", views.flag, name="flag"),
    path(
        "jams/<slug:slug>/posts/<int:post_id>/flags/dismiss/",
        views.flag_dismiss,
        name="flag_dismiss",
    ),
    path("jams/<slug:slug>/posts/<int:post_id>/reply/", views.reply, name="reply"),
    path("jams/<slug:slug>/me.json", views.marks, name="marks"),
    path("jams/<slug:slug>/people/", views.people, name="people"),
    path("jams/<slug:slug>/people/<str:author_key>/", views.person, name="person"),
    path("jams/<slug:slug>/follow-up/", views.follow_up, name="follow_up"),
    path("jams/<slug:slug>/follow-ups/", views.follow_ups, name="follow_ups"),
    path("jams/<slug:slug>/flags/", views.flag_list, name="flags"),
    path("jams/<slug:slug>/flag-threshold/", views.flag_threshold, name="flag_threshold"),
]
