"""What happened to each message: the provider's events (delivery, bounces, complaints),
and opens and clicks where tracking is allowed."""
