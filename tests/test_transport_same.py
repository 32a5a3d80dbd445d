"""Compares two views in JSON (the central's and a node's, or the oracle's):
prints each figure that differs and exits 1 when any does, or when the
first counts no case at all (a comparison of two empty views proves nothing).

    test_transport_same.py CENTRAL.json OTHER.json LABEL
"""
import json
import sys

try:
    central, other = (json.load (open (path)) for path in sys.argv [1:3])
except ValueError as error:
    print ("   ", sys.argv [3], "not a view:", error)
    sys.exit (1)
differing = [key for key in sorted (set (central) | set (other)) if central.get (key) != other.get (key)]
for key in differing [:3]:
    print ("   ", sys.argv [3], key, "central:", central.get (key), "other:", other.get (key))
if len (differing) > 3:
    print ("   ", sys.argv [3], "and %d more figures differ" % (len (differing) - 3))
sys.exit (1 if differing or not central.get ("managed") else 0)
