"""Public URLs of the preference center.

Include them once: ``path("preferences/", include("wagtail_preferences.urls"))``.
"""

app_name = "wagtail_preferences"

urlpatterns: list = []
