"""RabbitMQ plumbing: topology, confirmed publishing, reliable consuming."""

from shared.bus.bus import Bus
from shared.bus.topology import Names

__all__ = ["Bus", "Names"]
