from django.urls import path

from jamhost.transcripts import views

app_name = "transcripts"
urlpatterns = [
    path("jams/<slug:slug>/transcript/", views.transcript_replay, name="replay"),
    path("jams/<slug:slug>/transcript.<str:fmt>", views.transcript_export, name="export"),
    path("past/", views.past_jams, name="past"),
    path("import/", views.import_start, name="import"),
    path("import/<int:job_id>/", views.import_job, name="import_job"),
]
