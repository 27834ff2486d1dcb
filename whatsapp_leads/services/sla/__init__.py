"""The first-response SLA: when an answer is due (``deadline``), and what happens when nobody
answered in time (``breaches``: notify the owner then the managers, or re-assign).

Kept empty on purpose: ``assignment`` imports ``deadline`` and ``breaches`` imports
``assignment``, so importing the package must import neither.
"""
