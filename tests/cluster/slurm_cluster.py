"""A real single-node SLURM cluster on localhost for tests: munged, slurmctld, slurmd.

``SlurmCluster.unavailable()`` says in one line why a cluster cannot be started here (or
``None``); ``with SlurmCluster(...) as cluster:`` starts the daemons and stops every daemon it
started, by PID, however the block ends. Nothing is installed here (``.ci/run`` does that).

What SLURM 22.05 needs on one machine (established in issue 6; each is a hang or a
drained node when missed):

- munged runs as user ``munge`` with ``/run/munge`` owned by ``munge``; a munged that already
  answers on the default socket is used as it is, and left running.
- The configuration is ``/etc/slurm/slurm.conf`` (a symlink to this cluster's file): the
  executor plugin's job step strips ``SLURM_CONF`` from the environment, so every other path
  is lost inside the job.
- ``NodeName`` is ``hostname -s``. ``SlurmdParameters=config_overrides`` lets the node
  declare more CPUs and memory than the machine has, so a profile's requests are submitted as
  written (nothing enforces them: ``task/none``, ``proctrack/linuxproc``, no cgroups).
- Without slurmdbd, ``sacct`` has nothing to say; job status comes from ``squeue``, which
  keeps finished jobs for ``MinJobAge`` seconds. Every finished job is also written to
  ``jobcomp.txt`` (``jobcomp/filetxt``), the record :meth:`SlurmCluster.finished_jobs` reads.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

SLURM_CONF = Path("/etc/slurm/slurm.conf")
MUNGE_SOCKET_DIR = Path("/run/munge")
ROOT_PREFIX = "ml2tuner-slurm-"  # a symlink into such a folder is a test cluster's config
PARTITION = "ml2tuner"
MIN_JOB_AGE_S = 300

# Every one of these must be on PATH (slurmctld, slurmd and munged are in /usr/sbin).
BINARIES = (
    "munged",
    "munge",
    "unmunge",
    "slurmctld",
    "slurmd",
    "sbatch",
    "squeue",
    "sinfo",
    "scontrol",
    "scancel",
)
PACKAGES = "slurmctld slurmd slurm-client munge"


class ClusterError(RuntimeError):
    """A daemon did not start or the cluster did not become ready in time."""


@dataclass(frozen=True)
class Daemon:
    name: str
    process: subprocess.Popen
    log: Path


def _run(args: list[str], timeout: float = 20, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kwargs)


def _free_ports(n: int) -> list[int]:
    """``n`` distinct TCP ports that nothing listens on now (a crashed cluster may hold 6817)."""
    sockets = [socket.socket() for _ in range(n)]
    try:
        for sock in sockets:
            sock.bind(("", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def machine_memory_mb() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20


def munge_works() -> bool:
    """True when a munged answers on the default socket (encode, then decode)."""
    try:
        cred = _run(["munge", "-n"], timeout=10)
        return (
            cred.returncode == 0
            and _run(["unmunge"], timeout=10, input=cred.stdout).returncode == 0
        )
    except (OSError, subprocess.TimeoutExpired):
        return False


def _is_test_cluster_link(path: Path) -> bool:
    return path.is_symlink() and Path(os.readlink(path)).parent.name.startswith(ROOT_PREFIX)


def _controller_alive(root: Path) -> bool:
    """True when the slurmctld of the test cluster in ``root`` still runs."""
    try:
        os.kill(int((root / "slurmctld.pid").read_text().split()[0]), 0)
    except (OSError, ValueError, IndexError):
        return False
    return True


class SlurmCluster:
    """One node (``hostname -s``) in one default partition, state in a temporary folder.

    Args:
        cpus: CPUs the node declares (at least the machine's).
        memory_mb: memory the node declares (at least the machine's).
        start_timeout: seconds for all daemons to start and the node to become idle.
    """

    def __init__(self, *, cpus: int = 1, memory_mb: int = 1000, start_timeout: float = 60) -> None:
        self.node = socket.gethostname().split(".")[0]
        self.cpus = max(cpus, os.cpu_count() or 1)
        self.memory_mb = max(memory_mb, machine_memory_mb())
        self.start_timeout = start_timeout
        self.root: Path | None = None
        self.daemons: list[Daemon] = []
        self._made_etc_slurm = False
        self._linked_conf = False

    # ---- can it run here? --------------------------------------------------------------------

    @staticmethod
    def unavailable() -> str | None:
        """Why no cluster can be started on this machine, or None.

        ``.ci/run`` puts why it could not install SLURM in ``ML2TUNER_SLURM_UNAVAILABLE``;
        that is added to the reason.
        """
        reason = SlurmCluster._unavailable()
        why_not_installed = os.environ.get("ML2TUNER_SLURM_UNAVAILABLE")
        if reason and why_not_installed:
            reason += f"; .ci/run could not install SLURM: {why_not_installed}"
        return reason

    @staticmethod
    def _unavailable() -> str | None:
        missing = [name for name in BINARIES if shutil.which(name) is None]
        if missing:
            return (
                f"SLURM binaries not found on PATH: {', '.join(missing)} "
                f"(Debian: apt-get install {PACKAGES})"
            )
        if os.geteuid() != 0:
            return (
                f"starting munged as user munge and slurmd needs root; running as uid "
                f"{os.geteuid()}"
            )
        if SLURM_CONF.exists() or SLURM_CONF.is_symlink():
            if not _is_test_cluster_link(SLURM_CONF):
                return (
                    f"{SLURM_CONF} exists and is not a test cluster's: this machine has a "
                    f"SLURM configuration of its own, which the test will not replace"
                )
            target = Path(os.readlink(SLURM_CONF))
            if _controller_alive(target.parent):
                return f"{SLURM_CONF} points to {target}: another test cluster is running"
        return None

    # ---- start / stop --------------------------------------------------------------------------

    def __enter__(self) -> SlurmCluster:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        reason = self.unavailable()
        if reason:
            raise ClusterError(reason)
        self.root = Path(tempfile.mkdtemp(prefix=ROOT_PREFIX))
        self.root.chmod(0o755)  # munged (user munge) keeps its log and seed in here
        for sub in ("state", "spool"):
            (self.root / sub).mkdir()
        self.conf = self.root / "slurm.conf"
        self.conf.write_text(self._slurm_conf())
        self._link_conf()
        if not munge_works():
            self._start_munged()
        self._start("slurmctld", ["slurmctld", "-D", "-c", "-f", str(self.conf)])
        self._wait(lambda: _run(["scontrol", "ping"]).returncode == 0, "slurmctld to answer")
        self._start("slurmd", ["slurmd", "-D", "-f", str(self.conf), "-N", self.node])
        self._wait(self._node_idle, f"node {self.node} to become idle")

    def stop(self) -> None:
        """Cancel every job, then stop every daemon this cluster started, newest first."""
        if any(d.process.poll() is None for d in self.daemons if d.name == "slurmctld"):
            try:
                _run(["scancel", "--full", f"--partition={PARTITION}"], timeout=20)
                self._wait(
                    lambda: not self.squeue(states="PENDING,RUNNING,COMPLETING"),
                    "jobs to be cancelled",
                    timeout=30,
                    check=False,
                )
            except (OSError, subprocess.TimeoutExpired, ClusterError):
                pass  # the daemons are stopped below all the same
        for daemon in reversed(self.daemons):
            _terminate(daemon.process)
        self.daemons.clear()
        if (
            self._linked_conf
            and SLURM_CONF.is_symlink()
            and os.readlink(SLURM_CONF) == str(self.conf)
        ):
            SLURM_CONF.unlink()
        if self._made_etc_slurm:
            try:
                SLURM_CONF.parent.rmdir()
            except OSError:
                pass
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    # ---- queries -------------------------------------------------------------------------------

    def squeue(self, states: str = "all") -> list[dict[str, str]]:
        """Jobs SLURM still knows (finished ones for MinJobAge seconds)."""
        out = _run(["squeue", "--noheader", f"--states={states}", "--format=%i|%j|%T|%k"]).stdout
        keys = ("job_id", "name", "state", "comment")
        return [
            dict(zip(keys, line.split("|", 3), strict=True))
            for line in out.splitlines()
            if line.strip()
        ]

    def finished_jobs(self) -> list[dict[str, str]]:
        """Every job that ended, from slurmctld's job completion log (``jobcomp.txt``)."""
        path = self.root / "jobcomp.txt" if self.root else None
        if path is None or not path.exists():
            return []
        return [
            dict(field.split("=", 1) for field in line.split() if "=" in field)
            for line in path.read_text().splitlines()
            if line.strip()
        ]

    def logs(self, tail: int = 30) -> str:
        """The last lines of every daemon's log, for a failure message."""
        parts = []
        for daemon in self.daemons:
            if daemon.log.exists():
                lines = daemon.log.read_text(errors="replace").splitlines()[-tail:]
                parts.append(f"--- {daemon.name} ({daemon.log}) ---\n" + "\n".join(lines))
        return "\n".join(parts)

    # ---- internals -----------------------------------------------------------------------------

    def _slurm_conf(self) -> str:
        root = self.root
        ctld_port, slurmd_port = _free_ports(2)
        return f"""\
# Written by tests/cluster/slurm_cluster.py: a throwaway single-node cluster.
ClusterName=ml2tuner-test
SlurmctldHost={self.node}
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc={root}/jobcomp.txt
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SlurmdParameters=config_overrides
ReturnToService=2
MinJobAge={MIN_JOB_AGE_S}
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
SlurmctldLogFile={root}/slurmctld.log
SlurmdLogFile={root}/slurmd.log
NodeName={self.node} CPUs={self.cpus} RealMemory={self.memory_mb} State=UNKNOWN
PartitionName={PARTITION} Nodes={self.node} Default=YES MaxTime=INFINITE State=UP
"""

    def _link_conf(self) -> None:
        if not SLURM_CONF.parent.exists():
            SLURM_CONF.parent.mkdir(parents=True)
            self._made_etc_slurm = True
        if SLURM_CONF.is_symlink():  # a dead test cluster's, checked by unavailable()
            stale = Path(os.readlink(SLURM_CONF)).parent
            SLURM_CONF.unlink()
            shutil.rmtree(stale, ignore_errors=True)
        SLURM_CONF.symlink_to(self.conf)
        self._linked_conf = True

    def _start_munged(self) -> None:
        munge_dir = self.root / "munge"
        munge_dir.mkdir(mode=0o700)
        shutil.chown(munge_dir, "munge", "munge")
        MUNGE_SOCKET_DIR.mkdir(mode=0o755, exist_ok=True)
        shutil.chown(MUNGE_SOCKET_DIR, "munge", "munge")
        self._start(
            "munged",
            [
                "munged",
                "--foreground",
                f"--log-file={munge_dir}/munged.log",
                f"--seed-file={munge_dir}/munged.seed",
                f"--pid-file={munge_dir}/munged.pid",
            ],
            user="munge",
            group="munge",
            log=munge_dir / "munged.log",
        )
        self._wait(munge_works, "munged to answer")

    def _start(self, name: str, args: list[str], log: Path | None = None, **kwargs) -> None:
        out = self.root / f"{name}.out"
        with out.open("w") as stream:
            process = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=stream,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                **kwargs,
            )
        self.daemons.append(Daemon(name, process, log or self.root / f"{name}.log"))
        time.sleep(0.2)
        if process.poll() is not None:
            raise ClusterError(
                f"{name} exited with {process.returncode}: "
                f"{out.read_text(errors='replace')[-2000:]}"
            )

    def _node_idle(self) -> bool:
        out = _run(["sinfo", "--noheader", "--Node", "--format=%N %t"]).stdout.split()
        return out[:2] == [self.node, "idle"]

    def _wait(self, ready, what: str, timeout: float | None = None, check: bool = True) -> bool:
        deadline = time.monotonic() + (timeout or self.start_timeout)
        while time.monotonic() < deadline:
            for daemon in self.daemons:
                if daemon.process.poll() is not None:
                    raise ClusterError(
                        f"{daemon.name} exited with {daemon.process.returncode} "
                        f"while waiting for {what}\n{self.logs()}"
                    )
            if ready():
                return True
            time.sleep(0.25)
        if check:
            raise ClusterError(
                f"timed out after {timeout or self.start_timeout:.0f} s waiting "
                f"for {what}\n{self.logs()}"
            )
        return False


def _terminate(process: subprocess.Popen, grace: float = 15) -> None:
    """SIGTERM one daemon by PID; SIGKILL it if it has not exited after ``grace`` seconds."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=grace)
