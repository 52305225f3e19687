from types import SimpleNamespace

from tom_bhtom_brokers.scheduling import HostScheduler


def pair(host, requests, n):
    broker = SimpleNamespace(base_url=f"https://{host}", expected_requests=lambda: requests)
    return SimpleNamespace(broker=broker, n=n)


def test_the_busiest_host_starts_first_and_no_host_exceeds_its_limit():
    items = [pair("irsa", 1, i) for i in range(30)] + [pair("aavso", 13, i) for i in range(10)] \
        + [pair("atlas", 5, i) for i in range(6)]
    scheduler = HostScheduler(items, workers=10, per_host=4)
    first = scheduler.take()
    hosts = [item.broker.base_url.split("//")[1] for item in first]
    assert hosts[:4] == ["aavso"] * 4                 # 130 requests left: it starts at once, at its limit
    # then by work left: ATLAS (30 requests) and IRSA (30) share the other six slots
    assert hosts.count("aavso") == 4 and {"atlas", "irsa"} == set(hosts[4:]) and len(first) == 10
    assert scheduler.take() == []                     # every worker busy
    scheduler.release(first[0])
    (nxt,) = scheduler.take()
    assert nxt.broker.base_url == "https://aavso"     # the freed AAVSO slot is refilled by AAVSO
    taken = len(first) + 1
    running = [*first[1:], nxt]
    while scheduler.waiting or running:
        done = running.pop(0)
        scheduler.release(done)
        new = scheduler.take()
        assert all(scheduler.in_flight[h] <= 4 for h in scheduler.in_flight)
        running += new
        taken += len(new)
    assert taken == len(items)


def test_one_worker_takes_one_pair_at_a_time():
    scheduler = HostScheduler([pair("a", 1, 0), pair("b", 2, 1)], workers=1, per_host=4)
    (first,) = scheduler.take()
    assert first.broker.base_url == "https://b" and scheduler.take() == []
    scheduler.release(first)
    assert [i.broker.base_url for i in scheduler.take()] == ["https://a"]
