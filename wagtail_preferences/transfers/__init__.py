"""Contacts in and out of files: columns, spreadsheets, imports and exports."""
