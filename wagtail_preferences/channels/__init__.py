"""Ways to reach a contact (email, SMS, a site's own): the registry and the backends."""
