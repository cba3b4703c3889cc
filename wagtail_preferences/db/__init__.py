"""SQL that differs per database vendor, in one place."""
