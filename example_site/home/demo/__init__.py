"""Demo content for the example site: pages, preferences, categories and contacts."""
