from django.contrib import admin
from django.urls import include, path

from jamhost.health import healthz, metrics_view

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics_view, name="metrics"),
    path("accounts/", include("jamhost.accounts.urls")),
    path("", include("jamhost.jams.urls")),
    path("", include("jamhost.live.urls")),
    path("", include("jamhost.posts.urls")),
    path("", include("jamhost.networks.urls")),
    path("", include("jamhost.transcripts.urls")),
    path("", include("jamhost.audience.urls")),
    path("", include("jamhost.polls.urls")),
    path("", include("jamhost.accounts.guest_urls")),
]

handler404 = "jamhost.errors.not_found"
handler403 = "jamhost.errors.forbidden"
handler500 = "jamhost.errors.server_error"
