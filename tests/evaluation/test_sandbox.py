"""The code sandbox: programs pass and fail as they should, and escape attempts are contained quickly.

Every escape is scored as not passed, the test process (standing in for the worker) keeps its own limits, can
still fork and open sockets itself, and no process of the box survives it.
"""

import os
import resource
import socket
import time

import pytest

from evaluation.sandbox import (
    ERROR,
    FAILED,
    PASSED,
    TIMEOUT,
    SandboxLimits,
    probe_isolation,
    run_program,
    run_programs,
)

LIMITS = SandboxLimits(cpu_seconds=1, wall_seconds=3, memory_mb=256, file_size_mb=1)


def run(code: str, **kwargs):
    started = time.monotonic()
    result = run_program(code, limits=LIMITS, **kwargs)
    assert time.monotonic() - started < LIMITS.wall + 5, "the sandbox did not stop the program in time"
    if result.pid is not None:
        with pytest.raises(ProcessLookupError):
            os.killpg(result.pid, 0)  # the box's process group is gone: nothing it started lives on
    return result


@pytest.fixture(autouse=True)
def worker_stays_unharmed():
    limits = {name: resource.getrlimit(getattr(resource, name)) for name in ("RLIMIT_AS", "RLIMIT_CPU", "RLIMIT_NPROC")}
    cwd = os.getcwd()
    yield
    assert {name: resource.getrlimit(getattr(resource, name)) for name in limits} == limits
    assert os.getcwd() == cwd
    with socket.socket() as s:  # the worker itself still has its network
        s.settimeout(1)
    pid = os.fork()  # and can still start processes
    if pid == 0:
        os._exit(0)
    assert os.waitpid(pid, 0)[1] == 0


def test_passing_failing_and_broken_programs():
    assert run("assert sum([1, 2]) == 3\nprint('fine')").status == PASSED
    failed = run("def f():\n    return 1\nassert f() == 2, 'f is wrong'")
    assert failed.status == FAILED and "f is wrong" in failed.reason
    broken = run("def f(:\n    pass")
    assert broken.status == ERROR and "SyntaxError" in broken.reason
    crashed = run("raise KeyError('k')")
    assert crashed.status == ERROR and "KeyError" in crashed.reason


def test_infinite_loop_is_stopped():
    result = run("while True:\n    pass")
    assert result.status == TIMEOUT and "limit" in result.reason, (result.reason, result.returncode, result.seconds)


def test_sleeping_forever_hits_the_wall_clock():
    result = run("import time\ntime.sleep(60)")
    assert result.status == TIMEOUT and "wall-clock" in result.reason


def test_fork_bomb_is_contained():
    result = run("import os\nwhile True:\n    os.fork()")
    assert result.status == ERROR and "blocked by the sandbox" in result.reason
    for code in (
        "import subprocess\nsubprocess.run(['sleep', '30'])",
        "import os\nos.system('sleep 30 &')",
        "import multiprocessing\np = multiprocessing.Process(target=print)\np.start()",
        "import ctypes\nctypes.CDLL(None).fork()",
        "import os\nos.posix_spawn('/bin/sleep', ['sleep', '30'], {})",
    ):
        assert run(code).status == ERROR, code


def test_huge_allocation_fails_inside_the_box():
    result = run("x = bytearray(8 * 1024 ** 3)")
    assert result.status == ERROR and "MemoryError" in result.reason
    assert run("x = [0] * (10 ** 10)").status == ERROR


def test_sockets_are_refused():
    result = run("import socket\ns = socket.socket()\ns.connect(('127.0.0.1', 5432))")
    assert result.status == ERROR and "network access is blocked" in result.reason
    assert run("import socket\nsocket.create_connection(('127.0.0.1', 6379), timeout=1)").status == ERROR
    assert run("import urllib.request\nurllib.request.urlopen('http://127.0.0.1:6379', timeout=1)").status == ERROR


def test_network_namespace_blocks_sockets_even_without_the_prelude():
    if not probe_isolation().network_namespace:
        pytest.skip("this machine does not allow network namespaces; the prelude's stub is the only block")
    code = "import socket\ns = socket.socket()\ns.settimeout(1)\ns.connect(('127.0.0.1', 5432))"
    result = run(code, prelude=False)
    assert result.status == ERROR and ("unreachable" in result.reason or "refused" in result.reason)


def test_writing_outside_the_box_is_blocked(tmp_path):
    target = tmp_path / "escaped.txt"
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    attempts = [
        f"open({str(target)!r}, 'w').write('x')",
        f"import os\nfd = os.open({str(target)!r}, os.O_WRONLY | os.O_CREAT)\nos.write(fd, b'x')",
        f"import pathlib\npathlib.Path({str(target)!r}).write_text('x')",
        f"import os\nos.remove({str(victim)!r})",
        f"import os\nos.rename({str(victim)!r}, 'stolen.txt')",
        f"import shutil\nshutil.rmtree({str(tmp_path)!r})",
        f"import os\nos.symlink({str(victim)!r}, 'link')\nopen('link', 'w').write('x')",
        f"import io\nio.FileIO({str(target)!r}, 'w').write(b'x')",
        f"import posix\nposix.remove({str(victim)!r})",
    ]
    for code in attempts:
        result = run(code)
        assert result.status == ERROR and "blocked by the sandbox" in result.reason, (code, result.reason)
    assert not target.exists() and victim.read_text() == "keep me"
    # inside its own directory a program may write (up to the file-size limit), and reading is allowed
    assert run("open('notes.txt', 'w').write('ok')\nassert open('notes.txt').read() == 'ok'").status == PASSED
    assert run(f"assert open({str(victim)!r}).read() == 'keep me'").status == PASSED


def test_file_size_limit_and_endless_output():
    big = run("with open('big.bin', 'wb') as f:\n    while True:\n        f.write(b'x' * 65536)")
    assert big.status == ERROR and "File too large" in big.reason
    chatty = run("while True:\n    print('spam' * 1000)")  # fills its capped stdout file, not the worker's memory
    assert chatty.status in (ERROR, TIMEOUT) and len(chatty.stdout) <= 4000


def test_programs_cannot_raise_their_limits():
    result = run("import resource\nresource.setrlimit(resource.RLIMIT_AS, (-1, -1))")
    assert result.status == ERROR and "blocked" in result.reason


def test_boxes_run_side_by_side_in_input_order():
    codes = ["print(1)", "assert False", "while True: pass", "import socket; socket.socket()"]
    started = time.monotonic()
    results = run_programs(codes, limits=LIMITS, workers=4)
    assert [r.status for r in results] == [PASSED, FAILED, TIMEOUT, ERROR]
    assert time.monotonic() - started < 2 * LIMITS.wall + 5
