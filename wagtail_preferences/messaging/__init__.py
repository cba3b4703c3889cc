"""Sending messages: who may receive them, campaigns, planning, dispatch, rendering."""
