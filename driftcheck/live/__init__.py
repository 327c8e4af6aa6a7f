"""Live state: where the engine's "live" side comes from.

One module per job, lower ones first (no module imports one listed after it):

- ``records``  outcome records (Fetched / NotFound / Failed), listings and the LiveSource protocol
- ``routes``   API paths, each ID percent-encoded as one segment
- ``settings`` HttpSettings and their validation (before any request)
- ``retry``    retry decisions as pure functions (status, x-should-retry, retry-after, backoff)
- ``listing``  list pages: trusting a page, indexing items, choosing GETs or lists
- ``pool``     a bounded pool of one-connection httpx clients, and bounded_map
- ``api``      ApiSource: the Scale GP API over httpx
- ``snapshot`` SnapshotSource and the snapshot v1 document
"""
