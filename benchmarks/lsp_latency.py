"""How long does `anemoic lsp` take to answer a didChange with fresh diagnostics, warm?

Starts the real server (a fresh process, JSON-RPC over stdio, as an editor does), opens the AIFS
example, then sends ``--runs`` didChange notifications that alternate between the example and a
version with one error, timing each from the write of the notification to the arrival of its
publishDiagnostics.  The first answers (cold: imports, parser tables) are reported apart; the
target is a warm median under 100 ms.  Usage:
    nice .venv/bin/python benchmarks/lsp_latency.py [--runs 40]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.cli.lsp_client import Client  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    example = ROOT / "examples" / "aifs_o96.anm"
    text, uri = example.read_text(), example.as_uri()
    broken = text.replace("timestep = 6h", "timestep = 6")
    client = Client()
    client.request("initialize", {"processId": None, "rootUri": ROOT.as_uri(), "capabilities": {}})
    client.notify("initialized", {})
    start = time.perf_counter()
    client.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "anemoic", "version": 1,
                                                             "text": text}})
    client.wait(method="textDocument/publishDiagnostics")
    cold = time.perf_counter() - start
    times, counts = [], set()
    for version in range(2, args.runs + 2):
        start = time.perf_counter()
        client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version},
                                                 "contentChanges": [{"text": broken if version % 2 else text}]})
        params = client.wait(method="textDocument/publishDiagnostics")["params"]
        times.append(time.perf_counter() - start)
        counts.add((version % 2, len(params["diagnostics"])))
    client.close()
    warm = times[2:]
    print(f"didOpen (cold)        {cold * 1000:7.1f} ms")
    print(f"didChange warm median {statistics.median(warm) * 1000:7.1f} ms   "
          f"p90 {sorted(warm)[int(len(warm) * 0.9)] * 1000:.1f} ms   max {max(warm) * 1000:.1f} ms   "
          f"({len(warm)} changes; diagnostics per version parity: {sorted(counts)})")


if __name__ == "__main__":
    main()
