"""Code printers, one per target: the text each target's build compiles.

They print the target-neutral programs (:mod:`trisim.codegen.program`,
:mod:`trisim.codegen.synapse`) into the target's templates (:mod:`trisim.codegen.templates`)
and import no simulator; the target modules (``trisim.codegen.<target>``) compile what they
print and build the PyNN types that run it.
"""
