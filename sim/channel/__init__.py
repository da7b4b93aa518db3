"""Wireless channels: capacity processes, links, traces, radio power."""
