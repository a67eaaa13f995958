from django.urls import path

from jamhost.posts import draft_views, views

app_name = "posts"
urlpatterns = [
    path("jams/<slug:slug>/console/", views.console, name="console"),
    path("jams/<slug:slug>/console/panels/", views.console_panels, name="console_panels"),
    path("jams/<slug:slug>/screen/", views.screen, name="screen"),
    path("jams/<slug:slug>/drafts/", draft_views.drafts, name="drafts"),
    path("jams/<slug:slug>/drafts/ready/", draft_views.drafts_ready_panel, name="drafts_ready"),
    path(
        "jams/<slug:slug>/drafts/overview/",
        draft_views.drafts_overview_view,
        name="drafts_overview",
    ),
    path(
        "jams/<slug:slug>/drafts/<rowid:draft_id>/send/",
        draft_views.draft_send_view,
        name="draft_send",
    ),
    path(
        "jams/<slug:slug>/drafts/<rowid:draft_id>/delete/",
        draft_views.draft_delete_view,
        name="draft_delete",
    ),
]
