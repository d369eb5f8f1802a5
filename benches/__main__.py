"""``make bench``: every benchmark, one after another; each prints its figures."""

from benches import last_writes, saga_throughput

if __name__ == "__main__":
    last_writes.main([])
    saga_throughput.main()
