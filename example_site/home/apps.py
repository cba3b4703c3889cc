from django.apps import AppConfig


class HomeConfig(AppConfig):
    name = "example_site.home"
    label = "home"
    verbose_name = "Example site pages"
    default_auto_field = "django.db.models.BigAutoField"
