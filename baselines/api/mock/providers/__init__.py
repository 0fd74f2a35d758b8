"""The mock's providers, one module per API, routed by the first path segment."""

from baselines.api.mock.providers.ark import ark
from baselines.api.mock.providers.bfl import bfl
from baselines.api.mock.providers.dashscope import dashscope
from baselines.api.mock.providers.gemini import gemini
from baselines.api.mock.providers.openai import openai
from baselines.api.mock.providers.replicate import replicate
from baselines.api.mock.providers.stability import stability

HANDLERS = {
    "openai": openai,
    "gemini": gemini,
    "bfl": bfl,
    "ark": ark,
    "dashscope": dashscope,
    "stability": stability,
    "replicate": replicate,
}
