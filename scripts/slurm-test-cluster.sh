#!/usr/bin/env bash
# A real one-node Slurm cluster in a folder of its own, for tests and benchmarks of `run --backend slurm`.
#   bash scripts/slurm-test-cluster.sh start DIR   writes DIR/slurm.conf, gres.conf, a munge key and 4
#                                                  stand-in GPU device nodes, starts munged, slurmctld and
#                                                  slurmd (pid files in DIR), waits until the node is idle
#   bash scripts/slurm-test-cluster.sh stop DIR    stops what `start` started, by its pid files
# Clients find the cluster with SLURM_CONF=DIR/slurm.conf. Nothing outside DIR is written: munged runs with
# its own key and socket (AuthInfo=socket=...), the daemons on ports 16817/16818, so a machine's own Slurm
# or munge is left alone. Needs root and Debian's slurmctld, slurmd, slurm-client and munge; exits 77 with
# the reason when they are missing (the tests then skip). No accounting, as on many real clusters.
set -euo pipefail

cmd=${1:-}
dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
  echo "usage: $0 start|stop DIR" >&2
  exit 2
fi

stop_cluster() {
  # slurmd first (it holds the job steps), then the controller, then munge; each by its own pid file.
  for name in slurmd slurmctld munged; do
    local pidf="$dir/$name.pid"
    [ -s "$pidf" ] || continue
    local pid
    pid=$(cat "$pidf")
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$pidf"
  done
}

if [ "$cmd" = stop ]; then
  stop_cluster
  exit 0
fi
[ "$cmd" = start ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }

if [ "$(id -u)" -ne 0 ]; then
  echo "SKIPPED: the one-node Slurm test cluster needs root (slurmd runs jobs as their users)"
  exit 77
fi
for prog in slurmctld slurmd munged sbatch squeue scontrol scancel; do
  if ! command -v "$prog" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$prog" ]; then
    echo "SKIPPED: $prog is missing: apt-get install slurmctld slurmd slurm-client munge (scripts/setup.sh)"
    exit 77
  fi
done
PATH="$PATH:/usr/sbin"

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
mkdir -p "$dir/state" "$dir/spool" "$dir/gpu" "$dir/munge"
chmod 700 "$dir/munge"
host=$(hostname -s)

# Stand-in GPUs: Slurm sets CUDA_VISIBLE_DEVICES only for GRES with device files, and refuses plain files;
# character devices 1:3 behave like /dev/null.
for i in 0 1 2 3; do
  [ -e "$dir/gpu/nvidia$i" ] || mknod "$dir/gpu/nvidia$i" c 1 3
done

# munge's key: 1 KiB of random bytes, readable by munged only.
if [ ! -s "$dir/munge/munge.key" ]; then
  head -c 1024 /dev/urandom > "$dir/munge/munge.key"
  chmod 400 "$dir/munge/munge.key"
fi

cat > "$dir/slurm.conf" <<EOF
# One-node test cluster written by scripts/slurm-test-cluster.sh
ClusterName=lbtest
# Addresses given: the node's name need not resolve (a fresh CI machine may not list it in /etc/hosts).
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=16817
SlurmdPort=16818
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool/%n
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2
# Quick turnaround for tests: KillWait between SIGTERM and SIGKILL, finished jobs kept 300 s in squeue.
KillWait=5
MinJobAge=300
InactiveLimit=0
OverTimeLimit=0
GresTypes=gpu
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=1000 Gres=gpu:4 State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
cat > "$dir/gres.conf" <<EOF
Name=gpu File=$dir/gpu/nvidia[0-3]
EOF

stop_cluster  # whatever an earlier start in this folder left

munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
  --pid-file="$dir/munged.pid" --log-file="$dir/munged.log" --seed-file="$dir/munge/munge.seed"
export SLURM_CONF="$dir/slurm.conf"
slurmctld -f "$dir/slurm.conf"
slurmd -f "$dir/slurm.conf"

# Ready when the node is idle (a minute at most; slurmd registers within a few seconds).
for _ in $(seq 1 120); do
  state=$(sinfo -h -N -o '%T' 2>/dev/null | head -n1 || true)
  case "$state" in
    idle*) echo "slurm test cluster up in $dir (node $host, SLURM_CONF=$dir/slurm.conf)"; exit 0 ;;
  esac
  sleep 0.5
done
echo "the Slurm test cluster did not come up; node state '${state:-none}'; logs in $dir:" >&2
tail -n 20 "$dir/slurmctld.log" "$dir/slurmd.log" >&2 || true
stop_cluster
exit 1
