"""valet-api: the service Valet's OpenStack plugins ask where a stack's servers go."""

__version__ = "1.3.0"
