"""The safety audit: indicators, annotations, risk rules, change log, privacy rules.

Plain Python: no Qt here.
"""
