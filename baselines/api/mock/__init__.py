"""A loopback HTTP server speaking every supported image-editing API, for tests and benchmarks.

``MockServer(port=0).start()`` in-process, or ``ieval mock-server --port PORT`` from a shell.
Each provider lives under ``http://127.0.0.1:PORT/<provider>/...`` so that
``IEVAL_<PROVIDER>_BASE_URL=http://127.0.0.1:PORT/<provider>`` points an editor at it.
"""

from baselines.api.mock.faults import FAULTS, FaultRule, FaultSpec, mock_edit
from baselines.api.mock.server import MockServer

__all__ = ["FAULTS", "FaultRule", "FaultSpec", "MockServer", "mock_edit"]
