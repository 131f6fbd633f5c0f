"""Reference data: what ``rules/`` holds beside the rule packs (code lists, routing rules,
AEO benefits, MRA partners), read and checked once at start-up. Part of the platform: every
capability may read it, none owns it."""
