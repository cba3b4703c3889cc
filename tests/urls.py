from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls

urlpatterns = [
    path("admin/", include(wagtailadmin_urls)),
    path("preferences/", include("wagtail_preferences.urls")),
    # Email providers report bounces, complaints and deliveries here (anymail webhooks).
    path("anymail/", include("anymail.urls")),
    path("", include(wagtail_urls)),
]
