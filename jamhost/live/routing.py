from django.urls import path

from jamhost.live.consumers import ConsoleConsumer, LiveConsumer

websocket_urlpatterns = [
    path("ws/jams/<slug:slug>/live/", LiveConsumer.as_asgi()),
    path("ws/jams/<slug:slug>/console/", ConsoleConsumer.as_asgi()),
]
