from django.urls import path

from jamhost.networks import jam_network_views, link_views, views

app_name = "networks"
urlpatterns = [
    path("accounts/x/", views.account, name="account"),
    path("accounts/x/connect/", views.connect, name="connect"),
    path("accounts/x/callback/", views.callback, name="callback"),
    path("accounts/x/disconnect/", views.disconnect, name="disconnect"),
    path("posts/<int:post_id>/x/retry/", views.retry, name="retry"),
    path("accounts/bluesky/connect/", link_views.bluesky_connect, name="bluesky_connect"),
    path("accounts/mastodon/connect/", link_views.mastodon_connect, name="mastodon_connect"),
    path("accounts/mastodon/callback/", link_views.mastodon_callback, name="mastodon_callback"),
    path("accounts/linked/<int:account_id>/unlink/", link_views.unlink, name="unlink"),
    path("posts/<int:post_id>/<str:network>/retry/", link_views.retry, name="delivery_retry"),
    path(
        "jams/<slug:slug>/networks/",
        jam_network_views.jam_networks_save,
        name="jam_networks",
    ),
]
