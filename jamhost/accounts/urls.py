from django.contrib.auth import views as auth_views
from django.urls import path

from jamhost.accounts import views

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("me/", views.account, name="account"),
    path("me/posts.json", views.account_download, name="account_download"),
    path("me/delete/", views.account_remove, name="account_delete"),
]
