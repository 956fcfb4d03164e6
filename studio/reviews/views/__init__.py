"""Review screens: a provider's revisions and releases, one revision's diff,
comments and decisions, the inbox, the audit log and the team's settings."""
