"""Pure-Python core of BESS Dispatch: the dispatch protocol and the gateway logic.

Nothing here imports Home Assistant, so the integration, the optimizer add-on and the
tests share one copy of this code. It is importable as ``bess_dispatch_core`` (see
pyproject.toml) and, inside Home Assistant, as a subpackage of the integration.
"""
