from django.db import models
from django.utils.translation import gettext_lazy as _

from .contacts import Contact


class EmailChange(models.Model):
    """A new email address a contact asked for on the manage page, not confirmed yet.

    Confirming it from that address (a signed link) makes it the contact's and deletes this.
    """

    contact = models.OneToOneField(
        Contact, on_delete=models.CASCADE, related_name="email_change", verbose_name=_("contact")
    )
    new_email = models.EmailField(_("new email"), max_length=254)
    requested_at = models.DateTimeField(_("requested"), auto_now=True)

    class Meta:
        verbose_name = _("email change")
        verbose_name_plural = _("email changes")

    def __str__(self) -> str:
        return self.new_email
