"""Tenant policy: allow lists, thresholds, named policies (`tenant`) and custom RE2
patterns with their validators (`patterns`).
"""
