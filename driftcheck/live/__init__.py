"""Live state: where the engine's "live" side comes from.

One module per job, lower ones first (no module imports one listed after it):

- ``records``  outcome records (Fetched / NotFound / Failed), listings and the LiveSource protocol
- ``routes``   API paths, each ID percent-encoded as one segment
- ``settings`` HttpSettings and their validation (before any request)
- ``retry``    retry decisions as pure functions (status, x-should-retry, retry-after, backoff)
- ``listing``  list pages: trusting a page, indexing items, choosing GETs or lists, agreement
- ``pace``     when a request may start (--max-rps, the shared pause after a 429)
- ``pool``     keep-alive connections, one httpx client each, one deadline per attempt
- ``decode``   response bodies decoded within the size limit while they stream
- ``bodies``   strict JSON and the API's error detail
- ``redact``   secrets masked in every body and message
- ``exchange`` one request: retries, redirects, the auth stop
- ``api``      ApiSource: the Scale GP API over httpx
- ``snapshot`` SnapshotSource and the snapshot v1 document
"""
