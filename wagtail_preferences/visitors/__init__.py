"""What visitors see: sending a form, confirming, managing preferences, unsubscribing."""
