from django.urls import path, register_converter

from jamhost.transcripts import recap_views, replay_views, views


class SectionConverter:
    """A transcript section's anchor: a question ("q3") or the posts tied to none."""

    regex = "q[0-9]{1,4}|other"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class SeqConverter:
    """A post's seq: at most 9 digits (a longer number is a 404, not an overflow)."""

    regex = "[0-9]{1,9}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(SectionConverter, "section")
register_converter(SeqConverter, "seq")

app_name = "transcripts"
urlpatterns = [
    path("jams/<slug:slug>/card.png", replay_views.jam_card_image, name="jam_card"),
    path("jams/<slug:slug>/transcript/", replay_views.transcript_replay, name="replay"),
    path(
        "jams/<slug:slug>/transcript/card.png",
        replay_views.replay_card_image,
        name="replay_card",
    ),
    path(
        "jams/<slug:slug>/transcript/search/",
        replay_views.transcript_search_view,
        name="search",
    ),
    path(
        "jams/<slug:slug>/transcript/posts/<seq:seq>/",
        replay_views.transcript_post,
        name="post",
    ),
    path(
        "jams/<slug:slug>/transcript/posts/<seq:seq>/card.png",
        replay_views.post_card_image,
        name="post_card",
    ),
    path(
        "jams/<slug:slug>/transcript/<section:anchor>/",
        replay_views.transcript_section,
        name="section",
    ),
    path(
        "jams/<slug:slug>/transcript/<section:anchor>/card.png",
        replay_views.section_card_image,
        name="section_card",
    ),
    path(
        "jams/<slug:slug>/transcript/v<seq:version>/<section:anchor>/<seq:first>-<seq:last>/",
        replay_views.transcript_part,
        name="part",
    ),
    path(
        "jams/<slug:slug>/transcript/v<seq:version>/play/<seq:page>/",
        replay_views.transcript_play,
        name="play",
    ),
    path("jams/<slug:slug>/transcript.<str:fmt>", views.transcript_export, name="export"),
    path("jams/<slug:slug>/recap/", recap_views.recap_page, name="recap"),
    path("jams/<slug:slug>/recap.<str:fmt>", recap_views.recap_download, name="recap_download"),
    path("jams/<slug:slug>/recap/thank-you/", recap_views.recap_thank_you, name="recap_thank_you"),
    path("past/", views.past_jams, name="past"),
    path("import/", views.import_start, name="import"),
    path("import/<int:job_id>/", views.import_job, name="import_job"),
]
