"""TEMP stand-in: no rate limit."""


def wait_for_slots(channel, count):
    return 0.0
