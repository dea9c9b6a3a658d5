"""Stub of the engine's data types (brief), only so cloud.py can be tested before h2's engine merges.

Replaced by the real engine at merge: drop this file's commit.
"""

from dataclasses import dataclass
from typing import Mapping
from typing import Optional

RESOURCE_CLASSES = ("VCPU", "MEMORY_MB", "DISK_GB")


@dataclass(frozen=True)
class Host:
    name: str
    rack: str
    free: Mapping[str, int]
    servers: int = 0
    exclusive: Optional[str] = None
