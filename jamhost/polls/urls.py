from django.urls import path

from jamhost.jams.urls import RowIdConverter  # noqa: F401  (registers "rowid")
from jamhost.polls import views

app_name = "polls"
urlpatterns = [
    path("jams/<slug:slug>/polls/launch/", views.launch, name="launch"),
    path("jams/<slug:slug>/polls/add/", views.add, name="add"),
    path("jams/<slug:slug>/polls/mine.json", views.mine, name="mine"),
    path("jams/<slug:slug>/polls/<rowid:pk>/vote/", views.vote, name="vote"),
    path("jams/<slug:slug>/polls/<rowid:pk>/close/", views.close, name="close"),
    path("jams/<slug:slug>/polls/<rowid:pk>/delete/", views.delete, name="delete"),
]
