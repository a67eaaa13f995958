from django.urls import path

from jamhost.live import embed, views

app_name = "live"
urlpatterns = [
    path("jams/<slug:slug>/live/", views.room, name="room"),
    path("jams/<slug:slug>/live/compose/", views.compose, name="compose"),
    path("jams/<slug:slug>/live/preview/", views.compose_preview, name="preview"),
    path("jams/<slug:slug>/live/release-next/", views.release_next, name="release_next"),
    path("jams/<slug:slug>/live/extend/", views.extend, name="extend"),
    path("jams/<slug:slug>/live/start/", views.start_now, name="start"),
    path("jams/<slug:slug>/live/end/", views.end_now, name="end"),
    path("jams/<slug:slug>/embed/", embed.embed, name="embed"),
    path("jams/<slug:slug>/embed/setup/", embed.embed_setup, name="embed_setup"),
]
