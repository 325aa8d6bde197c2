"""``trisim models``: the installed models, trisim's and other packages'."""

from trisim import model
from trisim.errors import TrisimError


def lines():
    """One line per installed model: its name, its description and, if not trisim's, the
    package offering it (a model that cannot be loaded says why, and the others still show)."""
    found = []
    for name, entries in model.registered().items():
        distribution = entries[0].dist.name if entries[0].dist else ""
        source = "" if distribution == "trisim" else f"  [{distribution}]"
        try:
            description = model.load(name).description
        except TrisimError as exc:
            description = f"(cannot be loaded: {exc})"
        found.append(f"{name:15s} {description}{source}")
    return found
