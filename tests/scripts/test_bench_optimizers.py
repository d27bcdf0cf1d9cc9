"""The step benchmark's big case: larger than the cache where memory allows, and never larger than memory."""

from tests.scripts import load_script

bench = load_script("bench_optimizers")
MiB, GiB = 2**20, 2**30


def test_the_big_case_takes_four_times_the_cache_in_parameters():
    # The development machine of the page's earlier runs: 32 MiB of L3, plenty of memory
    layers, label = bench.big_case(32 * MiB, "L3", 22 * GiB, 8)
    assert layers == 32 and label == "parameters 4 x L3"
    assert 4 * layers * bench.LINEAR_1024 >= 4 * 32 * MiB > 4 * (layers - 1) * bench.LINEAR_1024


def test_a_cache_large_against_memory_caps_the_case_at_half_the_memory():
    # A virtual machine that reports its host's 480 MiB L3, with 22 GiB available and 8 contenders: 4 x L3 in
    # parameters would be 480 layers, 2 GB of parameters and some 95 GB held by the contenders in all
    layers, label = bench.big_case(480 * MiB, "L3", 22 * GiB, 8)
    held = bench.BYTES_HELD_PER_PARAM * bench.LINEAR_1024 * layers * 8
    assert layers == 58 and held <= 11 * GiB < held + bench.BYTES_HELD_PER_PARAM * bench.LINEAR_1024 * 8
    # Its working set (parameters, gradients and both moments) is still larger than the cache, and the name says so
    assert round(16 * bench.LINEAR_1024 * 58 / (480 * MiB), 1) == 1.9
    assert label == "capped by memory (4 x L3 would need 480 layers): working set 1.9 x L3"


def test_unknown_memory_leaves_the_case_uncapped():
    assert bench.big_case(480 * MiB, "L3", 0, 8) == (480, "parameters 4 x L3")
