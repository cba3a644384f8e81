"""packaging/sysdeps.sh without root: fake dpkg, apt-get, sudo and id on PATH record what it would run."""
import os
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "packaging" / "sysdeps.sh"
BASH = shutil.which("bash")

pytestmark = pytest.mark.skipif(BASH is None, reason="needs bash")


def _fake(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)


@pytest.fixture
def fake_system(tmp_path):
    """A PATH where every package is missing, apt-get succeeds, and every call is logged to calls.log."""
    bin_dir, log = tmp_path / "bin", tmp_path / "calls.log"
    bin_dir.mkdir()
    record = f'echo "$(basename "$0") $*" >> "{log}"'
    _fake(bin_dir, "dpkg", record)
    _fake(bin_dir, "dpkg-query", record + "\nexit 1")  # nothing installed
    _fake(bin_dir, "apt-cache", record)  # every package exists
    _fake(bin_dir, "apt-get", record)
    _fake(bin_dir, "sudo", record + '\nexec "$@"')
    _fake(bin_dir, "id", "echo 1000")  # not root
    _fake(bin_dir, "sleep", record)  # the lock wait polls without really sleeping
    return bin_dir, log


def _run(bin_dir: Path, *args, **env):
    environment = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "HOME": os.environ.get("HOME", "/tmp"), **env}
    return subprocess.run([BASH, str(SCRIPT), *args], capture_output=True, text=True, env=environment, timeout=60)


def test_the_script_parses():
    assert subprocess.run([BASH, "-n", str(SCRIPT)], capture_output=True).returncode == 0


def test_skip_variable_exits_at_once_without_calling_apt(fake_system):
    bin_dir, log = fake_system
    result = _run(bin_dir, "test", LANTERN_SKIP_SYSDEPS="1")
    assert result.returncode == 0 and "skipped" in result.stdout
    assert not log.exists()  # not even dpkg was asked
    control = _run(bin_dir, "test", LANTERN_SKIP_SYSDEPS="0")  # 0 does not skip
    assert control.returncode == 0 and "apt-get" in log.read_text()


def test_says_what_it_installs_and_that_it_uses_sudo_before_apt_get(fake_system):
    bin_dir, log = fake_system
    result = _run(bin_dir, "test")
    assert result.returncode == 0, result.stderr
    announce = result.stdout.splitlines()
    assert "gdal-bin" in announce[0] and "libasound2t64 or libasound2" in announce[0]
    assert "sudo apt-get" in announce[1] and "LANTERN_SKIP_SYSDEPS=1" in announce[2]
    calls = log.read_text().splitlines()
    apt_calls = [c for c in calls if c.startswith("apt-get")]
    assert [c.split()[3] for c in apt_calls] == ["update", "install"]
    assert all("DPkg::Lock::Timeout=300" in c for c in apt_calls)
    assert calls.index(next(c for c in calls if c.startswith("sudo"))) < calls.index(apt_calls[0])
    assert "--no-install-recommends" in apt_calls[1] and "gdal-bin" in apt_calls[1]


def test_waits_for_a_busy_package_manager_then_gives_up_with_a_clear_message(fake_system):
    bin_dir, log = fake_system
    _fake(bin_dir, "apt-get", f'echo "apt-get $*" >> "{log}"\n'
                              'echo "E: Could not get lock /var/lib/apt/lists/lock. It is held by process 42" >&2\n'
                              "exit 100")
    result = _run(bin_dir, "runtime", LANTERN_APT_LOCK_TIMEOUT="0")
    assert result.returncode == 1
    assert "kept its lock for 0s" in result.stderr and "LANTERN_APT_LOCK_TIMEOUT" in result.stderr
    assert sum(c.startswith("apt-get") for c in log.read_text().splitlines()) == 1


def test_retries_the_update_while_the_lock_is_held(fake_system, tmp_path):
    bin_dir, log = fake_system
    attempts = tmp_path / "attempts"
    _fake(bin_dir, "apt-get", f'echo "apt-get $*" >> "{log}"\n'
                              f'case "$*" in *update*) echo x >> "{attempts}";\n'
                              f'  [ "$(wc -l < "{attempts}")" -ge 3 ] && exit 0;\n'
                              '  echo "E: Could not get lock /var/lib/apt/lists/lock" >&2; exit 100;; esac')
    result = _run(bin_dir, "runtime")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("waiting for another package manager") == 2
    assert [c.split()[3] for c in log.read_text().splitlines() if c.startswith("apt-get")] == [
        "update", "update", "update", "install"]


def test_other_apt_failures_are_shown_not_waited_for(fake_system):
    bin_dir, log = fake_system
    _fake(bin_dir, "apt-get", 'echo "E: The repository is not signed." >&2; exit 100')
    result = _run(bin_dir, "runtime")
    assert result.returncode == 1 and "not signed" in result.stderr and "apt-get update failed" in result.stderr
    assert "waiting" not in result.stdout
