from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("jams", "0004_hashtag_key_lookalike_skeleton")]

    operations = [
        migrations.AddField(
            model_name="jam",
            name="embed_origins",
            field=models.JSONField(blank=True, default=list),
        ),
    ]
