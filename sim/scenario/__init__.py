"""Scenario files: schema, loading, overrides."""
