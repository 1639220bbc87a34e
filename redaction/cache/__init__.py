"""The detection cache (entity spans only, HMAC keys; `detection`) and its shared Redis
tier (`redis_tier`).
"""
