from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="ReceivedNotification",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("topic", models.CharField(max_length=100)),
                ("title", models.CharField(blank=True, max_length=300)),
                ("message", models.TextField()),
                ("received_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={"ordering": ["-received_at", "-pk"]},
        ),
        migrations.CreateModel(
            name="SentTask",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[("notification", "Notification"), ("welcome", "Welcome email")],
                        max_length=20,
                    ),
                ),
                ("summary", models.CharField(max_length=300)),
                ("result_id", models.CharField(blank=True, max_length=64)),
                ("enqueue_error", models.TextField(blank=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={"ordering": ["-created_at", "-pk"]},
        ),
    ]
