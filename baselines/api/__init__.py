"""Closed-source image-editing APIs as editors, on one async client layer.

``transport`` holds the HTTP layer (concurrency and rate limits, retries that honour Retry-After,
a total time cap); ``base.ApiEditor`` turns a batch of requests into concurrent provider calls and
the status taxonomy (ok / refused / error / timeout); one module per provider speaks its wire
format. ``baselines.api.mock`` is a loopback server speaking all of them, for tests and benches.
"""
