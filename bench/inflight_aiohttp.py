"""N concurrent GETs of one URL with aiohttp on one asyncio loop (one thread), for
bench/inflight.py. Prints one JSON line like bench/client's `inflight`.

python3 inflight_aiohttp.py N URL
"""
import asyncio
import json
import sys
import threading
import time

import aiohttp


async def main(n, url):
    errors = []
    ok = 0
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def one():
            async with session.get(url) as resp:
                await resp.read()
                return resp.status

        start = time.monotonic()
        results = await asyncio.gather(*(one() for _ in range(n)), return_exceptions=True)
        wall = time.monotonic() - start
    for r in results:
        if isinstance(r, BaseException):
            errors.append(r)
        else:
            ok += 1
    if errors:
        print(f"first error: {errors[0]!r}", file=sys.stderr)
    print(json.dumps({"wall": round(wall, 3), "ok": ok, "errors": len(errors),
                      "threads": threading.active_count()}))


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2]))
