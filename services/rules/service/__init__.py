"""The rules service's use cases: ingest events, judge cells live, judge everything at each
period end, reload the pack, and the reports computed on demand.
"""
