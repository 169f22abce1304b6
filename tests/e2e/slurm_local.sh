# A single-node Slurm (slurmctld + slurmd + munged) under a temporary
# directory, for the tests that need a real one. Source it, then:
#   slurm_local_start DIR   configure and start; exports SLURM_CONF; exits 77
#                           (skip) when slurmctld is not installed
#   slurm_local_stop DIR    stop slurmd and slurmctld by their pid files
#                           (munged, shared by every cluster on the host, stays)
# The recipe is DESIGN.md's "Facts checked": own ports, state, spool, pid
# and log files inside DIR; proctrack/linuxproc, task/none, cons_tres.

slurm_local_start() {
    sd=$1
    if ! command -v slurmctld >/dev/null 2>&1 || ! command -v slurmd >/dev/null 2>&1; then
        echo "SKIP: slurmctld/slurmd not installed (scripts/install-deps.sh installs slurm-wlm)" >&2
        exit 77
    fi
    if [ "$(id -u)" -ne 0 ]; then
        echo "SKIP: a local slurmd needs root" >&2
        exit 77
    fi
    mkdir -p "$sd/state" "$sd/spool"
    # munged: start one unless one answers already; under a lock, as tests
    # running side by side (ctest -j) may get here at the same moment.
    (
        flock 9
        if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
            mkdir -p /run/munge /var/log/munge /var/lib/munge
            chown -R munge:munge /var/log/munge /var/lib/munge /run/munge /etc/munge
            # 9>&-: the daemon must not inherit (and so hold) the lock.
            runuser -u munge -- /usr/sbin/munged --force 9>&- ||
                { echo "FAIL: munged did not start" >&2; exit 1; }
            i=0
            until munge -n 2>/dev/null | unmunge >/dev/null 2>&1; do
                i=$((i + 1)); [ $i -lt 100 ] || { echo "FAIL: munged does not answer" >&2; exit 1; }; sleep 0.05
            done
        fi
    ) 9>"${TMPDIR:-/tmp}/hops-munged-start.lock" || exit 1
    host=$(hostname)
    port=$((20000 + ($$ % 10000) * 2))  # and port+1: never shared by two test processes
    cat >"$sd/slurm.conf" <<CONF
ClusterName=hopstest
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
StateSaveLocation=$sd/state
SlurmdSpoolDir=$sd/spool
SlurmctldPidFile=$sd/slurmctld.pid
SlurmdPidFile=$sd/slurmd.pid
SlurmctldLogFile=$sd/slurmctld.log
SlurmdLogFile=$sd/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
KillWait=2
MinJobAge=5
InactiveLimit=0
MailProg=/bin/true
NodeName=$host CPUs=$(nproc) State=UNKNOWN
PartitionName=hops Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
    SLURM_CONF=$sd/slurm.conf
    export SLURM_CONF
    slurmctld || { cat "$sd/slurmctld.log" >&2; echo "FAIL: slurmctld did not start" >&2; exit 1; }
    slurmd || { cat "$sd/slurmd.log" >&2; echo "FAIL: slurmd did not start" >&2; exit 1; }
    i=0
    until [ "$(sinfo -h -o %T 2>/dev/null | head -1)" = idle ]; do
        i=$((i + 1))
        if [ $i -ge 200 ]; then
            sinfo >&2 || true
            tail -20 "$sd/slurmctld.log" "$sd/slurmd.log" >&2
            echo "FAIL: the Slurm node did not come up" >&2
            exit 1
        fi
        sleep 0.1
    done
}

slurm_local_stop() {
    sd=$1
    for d in slurmd slurmctld; do
        if [ -f "$sd/$d.pid" ]; then
            pid=$(cat "$sd/$d.pid")
            kill "$pid" 2>/dev/null || true
            i=0
            while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do i=$((i + 1)); sleep 0.05; done
            kill -9 "$pid" 2>/dev/null || true
        fi
    done
    # munged is left running: it is the host's one authentication daemon, and
    # other tests' clusters may be using it right now (ctest -j).
}
