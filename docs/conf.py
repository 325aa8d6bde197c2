"""Sphinx configuration of trisim's documentation (``make docs``)."""

import warnings
from importlib import metadata

# the simulators' own deprecation notices on import are not the documentation's
warnings.filterwarnings("ignore", category=DeprecationWarning)
warnings.filterwarnings("ignore", message=".* deprecated - use ")  # pyparsing's, seen by Brian2
warnings.filterwarnings("ignore", category=UserWarning, module="(pyNN|nest)(\\..*)?")

project = "trisim"
author = "the trisim developers"
copyright = "the trisim developers; CeCILL-2.1"
release = metadata.version("trisim")
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
]

# narrative pages are Markdown (MyST), like the README; the API pages are reStructuredText
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
myst_heading_anchors = 3

# numpydoc: one page per module, members listed in source order, no autosummary stubs
numpydoc_show_class_members = False
# parameter types are shown as written (no cross-references: the build needs no network to
# fetch Python's and the libraries' inventories)
numpydoc_xref_param_type = False
autodoc_member_order = "bysource"
autodoc_default_options = {"members": True}
autodoc_typehints = "none"

# Links into the documentation of the libraries trisim builds on are left to their own sites;
# no inventory is fetched at build time (the build needs no network).
intersphinx_mapping = {}

nitpicky = True
# Names in docstrings that belong to other projects' documentation
nitpick_ignore_regex = [
    (r"py:.*", r"(neo|pq|quantities|numpy|np|pyNN|elephant|pydantic|matplotlib|scipy)(\..*)?"),
    (r"py:.*", r"(pathlib|multiprocessing|concurrent|subprocess|collections|typing|os)\..*"),
]

templates_path = []
exclude_patterns = ["_build", "tutorial/*.py", "tutorial/*.yaml"]
html_theme = "alabaster"
html_theme_options = {"description": "one circuit, three simulators, one verdict",
                      "fixed_sidebar": True}
html_static_path = []
