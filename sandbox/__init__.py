"""A v2 provider simulator on a real HTTP socket, for the demo, tests and benchmarks.

Standard library only, so tests start it in a thread in milliseconds:

    with SandboxServer(SandboxConfig(seed=1)) as server:
        httpx.post(server.url, data={"key": "sandbox-key", "action": "services"})
"""

from sandbox.config import SandboxConfig
from sandbox.server import SandboxServer
from sandbox.state import SandboxState

__all__ = ["SandboxConfig", "SandboxServer", "SandboxState"]
