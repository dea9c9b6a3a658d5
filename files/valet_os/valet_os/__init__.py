"""Valet plugins for OpenStack Heat and Nova."""

# The only place the version is written; pyproject.toml reads it from here.
__version__ = "1.3.0"
