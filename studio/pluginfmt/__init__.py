"""The Dify model-plugin format, as the real SDK, daemon and CLI implement it.

Pure Python: nothing in this package may import Django (a test enforces it).
See docs/pluginfmt.md for the map of modules.
"""
