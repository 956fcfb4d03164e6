"""Remote debugging: a build's plugin run against a team's Dify (docs/debugging.md)."""
