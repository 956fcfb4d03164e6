"""Reads of the catalog that pages show, one module per topic; workflows that
write are in `services`."""
