#!/usr/bin/env python
"""Run the example site's management commands: ``python example_site/manage.py runserver``."""

import os
import sys
from pathlib import Path

if __name__ == "__main__":
    # Run as a script, Python puts example_site/ on the path; the site is imported as a
    # package, so its parent (the repository root) must be there instead.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_site.settings")

    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
