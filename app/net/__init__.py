"""Outbound HTTP that a client can steer (remote files): guarded against SSRF."""
