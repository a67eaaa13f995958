from django.urls import path

from jamhost.posts import views

app_name = "posts"
urlpatterns = [
    path("jams/<slug:slug>/console/", views.console, name="console"),
    path("jams/<slug:slug>/console/panels/", views.console_panels, name="console_panels"),
    path("jams/<slug:slug>/screen/", views.screen, name="screen"),
]
