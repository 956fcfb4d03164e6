"""The playground: try a build's plugin in the browser (docs/playground.md)."""
