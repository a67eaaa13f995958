from django.urls import path

from jamhost.accounts import guest_views

app_name = "guests"
urlpatterns = [
    path("jams/<slug:slug>/guest/join/", guest_views.join, name="join"),
    path("jams/<slug:slug>/guest/post/", guest_views.post, name="post"),
    path(
        "jams/<slug:slug>/guest/posts/<rowid:post_id>/delete/",
        guest_views.withdraw,
        name="withdraw",
    ),
    path("jams/<slug:slug>/guests/", guest_views.policy, name="policy"),
]
