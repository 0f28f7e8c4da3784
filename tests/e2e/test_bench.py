"""The benchmarks' own parsing, against what the real tools print."""
import importlib.util
import os
import subprocess

import gstest


def _bench_ktrace():
    path = os.path.join(gstest.ROOT, "bench", "ktrace.py")
    spec = importlib.util.spec_from_file_location("bench_ktrace", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_bench_ktrace_reads_dd_seconds_in_exponent_notation():
    """dd prints its copy time with %g: one byte copies in microseconds,
    "3.5e-05 s"; make bench failed on a fresh machine reading that."""
    bench = _bench_ktrace()
    assert bench.dd_copy_seconds(
        "1+0 records in\n1+0 records out\n1 byte copied, 4.9343e-05 s, 20.3 kB/s\n") == 4.9343e-05
    assert bench.dd_copy_seconds("512 bytes copied, 0.25 s, 2.0 kB/s") == 0.25
    assert bench.dd_copy_seconds("dd: failed to open") is None
    # The real dd, C locale: its line must parse to a positive time below the
    # wall time around it.
    r = subprocess.run(["dd", "if=/dev/zero", "of=/dev/null", "bs=1", "count=1"],
                       capture_output=True, text=True, env=dict(os.environ, LC_ALL="C"))
    seconds = bench.dd_copy_seconds(r.stderr)
    assert seconds is not None and 0 < seconds < 5, r.stderr
