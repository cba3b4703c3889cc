"""Contacts from CSV and XLSX files: columns, row checks, and the run that applies them."""
