"""Catalogue sync (issue 19, docs/sync.md): proposals computed from an
upstream model list or a LiteLLM price table, applied by an author in one
edit, and the drift watch that re-runs a check on a schedule."""
