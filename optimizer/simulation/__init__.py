"""A simulated site and day for the demo and the tests (``python -m optimizer demo``).

A gateway's real pipeline runs on sample profiles under a simulated clock and talks to the live
service over a real broker. The live service (:mod:`optimizer.service`) never imports this.
"""
