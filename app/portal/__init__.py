"""The traders' portal capability: the declaration form's XML builder, drafts, code-list
look-ups, answers to document requests and self-service API keys (no Flask here)."""
