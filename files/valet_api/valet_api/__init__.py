"""valet-api: the service Valet's OpenStack plugins ask where a stack's servers go."""

__version__ = "0.1.0"
