from django.urls import path

from jamhost.networks import jam_network_views, views

app_name = "networks"
urlpatterns = [
    path("accounts/x/", views.account, name="account"),
    path("accounts/x/connect/", views.connect, name="connect"),
    path("accounts/x/callback/", views.callback, name="callback"),
    path("accounts/x/disconnect/", views.disconnect, name="disconnect"),
    path("posts/<int:post_id>/x/retry/", views.retry, name="retry"),
    path(
        "jams/<slug:slug>/networks/",
        jam_network_views.jam_networks_save,
        name="jam_networks",
    ),
]
