"""X's state of a post now lives in networks.XPost (moved there by networks 0005)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("posts", "0007_network_origin"),
        ("networks", "0005_x_post_state"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="post", name="post_network_id_unique_per_jam"),
        migrations.RemoveField(model_name="post", name="network_status"),
        migrations.RemoveField(model_name="post", name="network_post_id"),
        migrations.RemoveField(model_name="post", name="network_error"),
        migrations.RemoveField(model_name="post", name="network_attempts"),
    ]
