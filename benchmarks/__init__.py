"""`make bench`: what tracking costs, and how it compares with the tools users would pick instead.

Every figure is measured against a baseline in the same run (ratios, not absolute timings), as
median and spread over repeated trials. Results go to benchmarks/results/latest.json.
"""
