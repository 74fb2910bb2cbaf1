"""What the benchmarks share: process control, CPU accounting, load generation, the report.

The benchmarks (``bench/*.py``) import it as a sibling package (``python bench/x.py``
puts ``bench/`` on the path); each keeps only its own scenarios. The modules are
imported one by one (nothing is re-exported here), so a benchmark measuring its own
memory does not load the HTTP client.

- ``accounting``: CPU and memory from /proc: CPU seconds of this process, of a server
  and of the JVM, the whole machine's busy time (the rest is other users' jobs), RSS.
- ``processes``: a free port; ``graphsvc serve`` in a subprocess that dies with the
  bench, pointed at a running store; the embedded ArcadeDB's JVM found by its root path;
  waits until a process is idle (``settle``) and until the other jobs on the shared
  machine leave it alone (``wait_quiet``).
- ``network``: the records: the demo network (``graphsvc.demo``) scaled to a number of
  receipts, split into its setup and its traffic, cut into consecutive slices.
- ``load``: a keep-alive HTTP/1.1 client on raw asyncio, an open-loop generator that
  schedules each request whatever the answers do and measures latency from the
  *scheduled* time (no coordinated omission), and the same pacing for plain calls.
- ``synthetic``: entities and evidence rows written through the store's own write path
  (``write_plan``) in batches, for stores bigger than ingest can build in a run.
- ``report``: progress lines, nearest-rank percentiles, latency rows, markdown tables.
"""
