"""The toolbox ImageEdit-R1 acts through: the shared tool layer's classical tools.

Real (learned) grounding or synthesis tools answer to the same schemas, so a toolbox with them
can be passed to ``AgentSystem`` instead; the policy's plan format does not change.
"""

from __future__ import annotations

from baselines.tools import Toolbox


def default_toolbox() -> Toolbox:
    """A fresh toolbox of classical tools (scene-parser grounding, exact pixel and photo ops)."""
    from baselines.tools.classical import classical_toolbox

    return classical_toolbox()
