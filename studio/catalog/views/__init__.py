"""Views of the catalog, one module per screen."""
