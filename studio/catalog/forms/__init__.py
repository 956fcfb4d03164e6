"""Forms of the catalog, one module per screen (as `views/`): they validate and
clean, services do the work."""
