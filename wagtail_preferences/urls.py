"""Public URLs of the preference center.

Include them once: ``path("preferences/", include("wagtail_preferences.urls"))``.
"""

from django.urls import path

from .visitors.views import confirm, email_change, links, manage, submit, tracking, unsubscribe

app_name = "wagtail_preferences"

urlpatterns = [
    path("forms/submit/", submit.submit, name="submit"),
    path("confirm/<str:token>/", confirm.confirm, name="confirm"),
    path("confirm/<str:token>/resend/", confirm.resend, name="resend_confirmation"),
    path("manage/", manage.manage, name="my_preferences"),
    path("manage/<str:token>/", manage.manage, name="manage"),
    path(
        "email/<str:token>/",
        email_change.confirm_email_change,
        name="confirm_email_change",
    ),
    path("unsubscribe/<str:token>/", unsubscribe.unsubscribe, name="unsubscribe"),
    path(
        "unsubscribe/<str:token>/reason/",
        unsubscribe.unsubscribe_reason,
        name="unsubscribe_reason",
    ),
    path("link/", links.request_link, name="request_link"),
    path("forget/", links.forget, name="forget"),
    path("forgotten/", links.forgotten, name="forgotten"),
    path("t/c/<str:token>/<int:number>/", tracking.click, name="tracked_click"),
    path("t/o/<str:token>.gif", tracking.open_pixel, name="tracked_open"),
]
