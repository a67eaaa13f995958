"""X's state of a post moves from the post (network_status, network_post_id,
network_error, network_attempts) to networks.XPost, and shows through post.elsewhere["x"]."""

import django.db.models.deletion
from django.db import migrations, models

BATCH = 1000


def x_state_moved(apps, schema_editor):
    Post = apps.get_model("posts", "Post")
    XPost = apps.get_model("networks", "XPost")
    rows = (
        Post.objects.exclude(network_status="local")
        .order_by("pk")
        .values_list(
            "pk",
            "jam_id",
            "source",
            "network_status",
            "network_post_id",
            "network_error",
            "network_attempts",
            "elsewhere",
        )
    )
    batch = []
    for pk, jam_id, source, status, x_id, error, attempts, elsewhere in rows.iterator():
        batch.append(
            XPost(
                post_id=pk,
                jam_id=jam_id,
                status=status,
                x_id=x_id,
                error=error,
                attempts=attempts,
            )
        )
        if source == "app":
            entry = {"status": status, "url": "", "error": error}
            if status == "published" and x_id:
                entry["url"] = f"https://x.com/i/web/status/{x_id}"
            found = dict(elsewhere) if isinstance(elsewhere, dict) else {}
            found["x"] = entry
            Post.objects.filter(pk=pk).update(elsewhere=found)
        if len(batch) >= BATCH:
            XPost.objects.bulk_create(batch)
            batch = []
    XPost.objects.bulk_create(batch)


def x_state_returned(apps, schema_editor):
    Post = apps.get_model("posts", "Post")
    XPost = apps.get_model("networks", "XPost")
    for row in XPost.objects.order_by("pk").iterator():
        post = Post.objects.get(pk=row.post_id)
        found = dict(post.elsewhere) if isinstance(post.elsewhere, dict) else {}
        found.pop("x", None)
        Post.objects.filter(pk=row.post_id).update(
            network_status=row.status,
            network_post_id=row.x_id,
            network_error=row.error,
            network_attempts=row.attempts,
            elsewhere=found,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("jams", "0006_reminders"),
        ("networks", "0004_bluesky_and_mastodon"),
        ("posts", "0007_network_origin"),
    ]

    operations = [
        migrations.CreateModel(
            name="XPost",
            fields=[
                (
                    "post",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="on_x",
                        serialize=False,
                        to="posts.post",
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("held", "Goes to X once approved"),
                            ("queued", "Queued for X"),
                            ("published", "Published on X"),
                            ("failed", "Failed to publish"),
                        ],
                        max_length=10,
                    ),
                ),
                ("x_id", models.CharField(blank=True, db_index=True, max_length=64, null=True)),
                ("error", models.CharField(blank=True, max_length=300)),
                ("attempts", models.PositiveIntegerField(default=0)),
                (
                    "jam",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="jams.jam",
                    ),
                ),
            ],
            options={
                "indexes": [models.Index(fields=["status"], name="x_post_status")],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("x_id__isnull", False)),
                        fields=("jam", "x_id"),
                        name="x_post_id_unique_per_jam",
                    )
                ],
            },
        ),
        migrations.RunPython(x_state_moved, x_state_returned),
    ]
