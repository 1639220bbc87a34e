"""The HTTP edge: decoding and refusing a request's bytes, the handlers that call the
runtime's service and map errors to statuses, and the local server (`serve`).
"""
