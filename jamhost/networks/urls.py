from django.urls import path

from jamhost.networks import views

app_name = "networks"
urlpatterns = [
    path("accounts/x/", views.account, name="account"),
    path("accounts/x/connect/", views.connect, name="connect"),
    path("accounts/x/callback/", views.callback, name="callback"),
    path("accounts/x/disconnect/", views.disconnect, name="disconnect"),
    path("posts/<int:post_id>/x/retry/", views.retry, name="retry"),
]
