"""The test URLs, with media files served as a site's web server serves them."""

from django.conf import settings
from django.urls import re_path
from django.views.static import serve

from tests.urls import urlpatterns as site_urlpatterns


def media(request, path):
    return serve(request, path, document_root=settings.MEDIA_ROOT)  # each test's own folder


urlpatterns = [re_path(r"^media/(?P<path>.*)$", media), *site_urlpatterns]
