"""``make bench``: every benchmark, one after another; each prints its figures."""

from benches import saga_throughput

if __name__ == "__main__":
    saga_throughput.main()
