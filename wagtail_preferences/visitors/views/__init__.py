"""The pages visitors see: sending a form, confirming, managing preferences, unsubscribing."""
