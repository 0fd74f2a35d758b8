"""Versioned prompt templates: files under ``harness/judges/templates/<name>.v<N>.txt``, hashed into
every judge's fingerprint. A user may point ``template_dir`` at a folder of their own (for instance the
official prompts) holding ``<name>.txt``; those files then replace ours and their hash is recorded.

Placeholders are ``{{name}}``; rendering fails loudly on an unfilled one.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

TEMPLATE_ROOT = Path(__file__).parent / "templates"
PLACEHOLDER = re.compile(r"\{\{([a-z_]+)\}\}")


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    version: str
    text: str
    origin: str  # "builtin" or the user file's path

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def fingerprint(self) -> dict[str, str]:
        return {"name": self.name, "version": self.version, "sha256": self.sha256, "origin": self.origin}

    def render(self, **values: str) -> str:
        needed = set(PLACEHOLDER.findall(self.text))
        missing = needed - set(values)
        if missing:
            raise KeyError(f"template {self.name} needs {', '.join(sorted(missing))}")
        return PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), self.text)


def load_template(name: str, version: str = "1", template_dir: Path | None = None) -> PromptTemplate:
    """Our ``<name>.v<version>.txt``, or ``template_dir/<name>.txt`` when the user supplies one."""
    if template_dir is not None:
        user_file = Path(template_dir) / f"{name}.txt"
        if user_file.is_file():
            return PromptTemplate(name, "user", user_file.read_text(encoding="utf-8"), str(user_file))
    path = TEMPLATE_ROOT / f"{name}.v{version}.txt"
    if not path.is_file():
        raise FileNotFoundError(f"no prompt template {path.name} in {TEMPLATE_ROOT}")
    return PromptTemplate(name, version, path.read_text(encoding="utf-8"), "builtin")
