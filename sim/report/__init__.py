"""Plots and terminal tables of results."""
