"""hashtag_key becomes the tag's look-alike skeleton (jams.hashtags.hashtag_key): recompute
it for every jam, so a fullwidth or Cyrillic look-alike of a reserved tag clashes with it."""

from django.db import migrations

from jamhost.jams.hashtags import hashtag_key


def recompute(apps, schema_editor):  # type: ignore[no-untyped-def]
    Jam = apps.get_model("jams", "Jam")
    for jam in Jam.objects.only("pk", "hashtag", "hashtag_key").iterator():
        key = hashtag_key(jam.hashtag)
        if key != jam.hashtag_key:
            Jam.objects.filter(pk=jam.pk).update(hashtag_key=key)


class Migration(migrations.Migration):
    dependencies = [("jams", "0003_transcript_outdated")]

    operations = [migrations.RunPython(recompute, migrations.RunPython.noop)]
