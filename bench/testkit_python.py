"""Rows 5f and 5g of bench/run.sh: the Python test kit (python/localidp).

5f: LocalIdp.start (what the pytest fixtures call) from a seed file to the first
    token_for, STARTS times: the median, min and max in ms.
5g: token_for, one after another over the kit's kept-alive connection, for SECONDS.

Usage: LOCALIDP_BIN=... PYTHONPATH=python testkit_python.py SEED STARTS SECONDS USER CLIENT
Prints: first_token_median=MS first_token_min=MS first_token_max=MS token_for_rate=PER_S
"""
import statistics
import sys
import time

from localidp import LocalIdp

seed, starts, seconds, user, client = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5]

times = []
for _ in range(starts):
    began = time.perf_counter()
    with LocalIdp.start(seed=seed) as idp:
        idp.token_for(user, client_id=client)
        times.append((time.perf_counter() - began) * 1000)

with LocalIdp.start(seed=seed) as idp:
    idp.token_for(user, client_id=client)  # the connection is open before the clock starts
    count = 0
    began = time.perf_counter()
    while time.perf_counter() - began < seconds:
        idp.token_for(user, client_id=client)
        count += 1
    rate = count / (time.perf_counter() - began)

print(
    f"first_token_median={statistics.median(times):.1f} first_token_min={min(times):.1f} "
    f"first_token_max={max(times):.1f} token_for_rate={rate:.1f}"
)
