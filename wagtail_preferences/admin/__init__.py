"""The Preference center in the Wagtail admin: viewsets, views, forms, panels and filters."""
