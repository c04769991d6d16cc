from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="EventCursor",
            fields=[
                ("name", models.CharField(max_length=200, primary_key=True, serialize=False)),
                ("cursor", models.CharField(max_length=200)),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
            options={"verbose_name": "wasmtasks event cursor"},
        ),
    ]
