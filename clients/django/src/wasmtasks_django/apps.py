from django.apps import AppConfig


class WasmTasksConfig(AppConfig):
    """Only needed for ``manage.py wasmtasks_events`` and its cursor table."""

    name = "wasmtasks_django"
    label = "wasmtasks_django"
    verbose_name = "wasmtasks"
    default_auto_field = "django.db.models.BigAutoField"
