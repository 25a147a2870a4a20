"""PostgreSQL without a health-check round trip right after a request that went well (see base.py)."""
