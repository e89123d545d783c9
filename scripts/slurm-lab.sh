#!/usr/bin/env bash
# A private Slurm lab for the Ds01 cluster tests: munge with its own key and socket, slurmdbd on a private MariaDB
# (its own datadir, socket and a 127.0.0.1 port), slurmctld, and three slurmd nodes on this host (multiple-slurmd:
# NodeHostname=localhost, one port each) with typed fake GRES on mknod'ed device files:
#   n1, n2: gpu:h100:2            n3: one H100 split into two MIG instances, gpu:3g.40gb:2
# Accounting tracks gres/gpu and its types (so GrpTRES=gres/gpu=N limits bind), QOS `high` outranks `normal`, and
# the Epilog is config/slurm/epilog (removes the job's containers on DOCKER_HOST as the lab was started with).
#
#   scripts/slurm-lab.sh start [DIR]   # install packages if missing (root), start what is not running; prints env lines
#   scripts/slurm-lab.sh env [DIR]     # prints: export SLURM_CONF=... DS01_SLURM_LAB=...
#   scripts/slurm-lab.sh stop [DIR]    # stops exactly the daemons it started (pidfiles checked against /proc)
#   scripts/slurm-lab.sh status [DIR]  # exit 0 when every daemon is up and the nodes are idle or allocated
#
# DIR defaults to $DS01_SLURM_LAB_DIR, else $REPO/.ci-work/slurm. Ports are derived from DIR, so two labs (two
# worktrees) do not collide. Only stdout carries the export lines; progress goes to stderr.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cmd="${1:-}"
DIR="${2:-${DS01_SLURM_LAB_DIR:-$REPO/.ci-work/slurm}}"
case "$DIR" in /*) ;; *) DIR="$PWD/$DIR" ;; esac
ID="$(printf '%s' "$DIR" | cksum | cut -d' ' -f1)"
BASE=$(( 20000 + (ID % 4000) * 8 ))
CTLD_PORT=$BASE; DBD_PORT=$((BASE + 1)); DB_PORT=$((BASE + 2))
CLUSTER=ds01lab
NODES=(n1 n2 n3)
CONF="$DIR/etc/slurm.conf"
MUNGE_SOCK="$DIR/munge/munge.socket.2"
DB_SOCK="$DIR/mysql/mysqld.sock"

log() { printf 'slurm-lab: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

print_env() {
    printf 'export SLURM_CONF=%s DS01_SLURM_LAB=%s\n' "$CONF" "$DIR"
}

# The pid in a pidfile, only if that process is still the program we started (guards against pid reuse).
pid_of() { # pidfile comm
    local f="$1" comm="$2" pid
    [ -f "$f" ] || return 1
    pid="$(tr -dc '0-9' <"$f")"
    [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] || return 1
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$comm" ] || return 1
    # Ours: it names this lab's directory, or (slurmdbd, which takes no path) runs with this lab's SLURM_CONF.
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$DIR/" ||
        tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qxF -- "SLURM_CONF=$CONF" || return 1
    printf '%s\n' "$pid"
}

wait_for() { # seconds description command...
    local n=$(( $1 * 5 )) what="$2"; shift 2
    while [ $n -gt 0 ]; do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.2; n=$((n - 1))
    done
    die "$what did not come up (logs in $DIR/log)"
}

install_if_missing() {
    local need=()
    for pair in slurmctld:slurm-wlm slurmd:slurm-wlm sbatch:slurm-client slurmdbd:slurmdbd slurmrestd:slurmrestd \
                munged:munge mariadbd:mariadb-server mknod:coreutils docker:docker.io; do
        command -v "${pair%%:*}" >/dev/null 2>&1 || PATH="$PATH:/usr/sbin" command -v "${pair%%:*}" >/dev/null 2>&1 ||
            need+=("${pair#*:}")
    done
    [ ${#need[@]} -eq 0 ] && return 0
    [ "$(id -u)" -eq 0 ] || die "needs root to install ${need[*]}"
    log "installing ${need[*]}"
    # policy-rc.d keeps the packages' own daemons (munge, mariadb, slurm*) from starting on the system paths.
    local prc=/usr/sbin/policy-rc.d made=
    [ -e "$prc" ] || { printf '#!/bin/sh\nexit 101\n' >"$prc"; chmod 755 "$prc"; made=1; }
    { DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" ||
      { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}"; }; } \
        >"$DIR/log/apt.log" 2>&1 || { [ -z "$made" ] || rm -f "$prc"; die "apt-get install failed (see $DIR/log/apt.log)"; }
    [ -z "$made" ] || rm -f "$prc"
}

write_config() {
    local epilog="$REPO/config/slurm/epilog"
    [ -x "$epilog" ] || die "$epilog is missing or not executable"
    mkdir -p "$DIR"/{etc,log,run,state,dev,munge,mysql} "$DIR"/spool/{n1,n2,n3}
    # 0755 as /run/munge: the test accounts (ClusterServiceTestBed) sbatch as themselves through the socket; the key stays 0400 root.
    chmod 755 "$DIR/munge"
    # Fake GPUs: character devices with the NVIDIA major (195); nothing opens them, Slurm only stats them.
    local i
    for i in 0 1 2 3 4 5; do [ -c "$DIR/dev/nvidia$i" ] || mknod "$DIR/dev/nvidia$i" c 195 "$i"; done
    # The Epilog runs with Slurm's minimal environment, so the wrapper carries this lab's DOCKER_HOST (the one
    # `start` sees; a later start without DOCKER_HOST keeps the earlier one).
    if [ -z "${DOCKER_HOST:-}" ] && [ -f "$DIR/etc/epilog" ]; then :; else
    {
        printf '#!/bin/sh\n'
        printf 'DOCKER_HOST=%q; export DOCKER_HOST\n' "${DOCKER_HOST:-unix:///var/run/docker.sock}"
        printf 'exec %q "$@"\n' "$epilog"
    } >"$DIR/etc/epilog"
    chmod 755 "$DIR/etc/epilog"
    fi

    cat >"$CONF" <<EOF
ClusterName=$CLUSTER
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$MUNGE_SOCK
CredType=cred/munge
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool/%n
SlurmctldPidFile=$DIR/run/slurmctld.pid
SlurmdPidFile=$DIR/run/slurmd-%n.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd-%n.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SlurmdParameters=config_overrides
ReturnToService=2
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2,bf_interval=2
PriorityType=priority/multifactor
PriorityWeightQOS=100000
PriorityWeightAge=0
PriorityWeightFairshare=0
GresTypes=gpu
Epilog=$DIR/etc/epilog
KillWait=5
InactiveLimit=0
MinJobAge=300
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort=$DBD_PORT
AccountingStoragePass=socket=$MUNGE_SOCK
AccountingStorageTRES=gres/gpu,gres/gpu:h100,gres/gpu:3g.40gb
AccountingStorageEnforce=associations,limits,qos
NodeName=n1 NodeHostname=localhost NodeAddr=127.0.0.1 Port=$((BASE + 3)) CPUs=4 RealMemory=8000 Gres=gpu:h100:2 State=UNKNOWN
NodeName=n2 NodeHostname=localhost NodeAddr=127.0.0.1 Port=$((BASE + 4)) CPUs=4 RealMemory=8000 Gres=gpu:h100:2 State=UNKNOWN
NodeName=n3 NodeHostname=localhost NodeAddr=127.0.0.1 Port=$((BASE + 5)) CPUs=4 RealMemory=8000 Gres=gpu:3g.40gb:2 State=UNKNOWN
PartitionName=lab Nodes=n1,n2,n3 Default=YES MaxTime=INFINITE State=UP
EOF
    cat >"$DIR/etc/gres.conf" <<EOF
AutoDetect=off
NodeName=n1 Name=gpu Type=h100 File=$DIR/dev/nvidia[0-1]
NodeName=n2 Name=gpu Type=h100 File=$DIR/dev/nvidia[2-3]
NodeName=n3 Name=gpu Type=3g.40gb File=$DIR/dev/nvidia[4-5]
EOF
    cat >"$DIR/etc/cgroup.conf" <<EOF
CgroupPlugin=autodetect
EOF
    cat >"$DIR/etc/slurmdbd.conf" <<EOF
AuthType=auth/munge
AuthInfo=socket=$MUNGE_SOCK
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort=$DBD_PORT
SlurmUser=root
PidFile=$DIR/run/slurmdbd.pid
LogFile=$DIR/log/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$DB_PORT
StorageUser=slurm
StoragePass=ds01lab
StorageLoc=slurm_acct_db
EOF
    chmod 600 "$DIR/etc/slurmdbd.conf"
}

start_munge() {
    pid_of "$DIR/munge/munged.pid" munged >/dev/null && return 0
    [ -s "$DIR/munge/munge.key" ] || { dd if=/dev/urandom of="$DIR/munge/munge.key" bs=1024 count=1 status=none; chmod 400 "$DIR/munge/munge.key"; }
    munged --force --socket="$MUNGE_SOCK" --key-file="$DIR/munge/munge.key" --pid-file="$DIR/munge/munged.pid" \
        --log-file="$DIR/log/munged.log" --seed-file="$DIR/munge/munged.seed" --num-threads=4
    wait_for 10 munged test -S "$MUNGE_SOCK"
}

mysql_root() { mariadb --no-defaults --socket="$DB_SOCK" -uroot "$@"; }

start_mariadb() {
    pid_of "$DIR/run/mariadbd.pid" mariadbd >/dev/null && return 0
    if [ ! -d "$DIR/mysql/data/mysql" ]; then
        mariadb-install-db --no-defaults --datadir="$DIR/mysql/data" --user=root --auth-root-authentication-method=socket \
            --skip-test-db >"$DIR/log/mariadb-install.log" 2>&1 || die "mariadb-install-db failed (see $DIR/log/mariadb-install.log)"
    fi
    # --no-defaults: the system's my.cnf must not point this instance at /var/lib/mysql.
    setsid mariadbd --no-defaults --user=root --datadir="$DIR/mysql/data" --socket="$DB_SOCK" --port="$DB_PORT" \
        --bind-address=127.0.0.1 --pid-file="$DIR/run/mariadbd.pid" --log-error="$DIR/log/mariadb.log" \
        --innodb-buffer-pool-size=64M --innodb-log-file-size=16M --skip-name-resolve \
        </dev/null >/dev/null 2>&1 &
    wait_for 60 mariadbd mysql_root -e 'select 1'
    mysql_root -e "CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY 'ds01lab';
        GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1'; FLUSH PRIVILEGES;"
}

sacctmgr_lab() { SLURM_CONF="$CONF" sacctmgr -i "$@"; }

start_slurmdbd() {
    pid_of "$DIR/run/slurmdbd.pid" slurmdbd >/dev/null && return 0
    SLURM_CONF="$CONF" setsid slurmdbd -D -s -n 0 </dev/null >>"$DIR/log/slurmdbd.out" 2>&1 &
    # slurmdbd -D does not write its pidfile itself when run in the foreground on every version: write it.
    echo $! >"$DIR/run/slurmdbd.pid"
    wait_for 60 slurmdbd sacctmgr_lab -n list cluster
    sacctmgr_lab -n list cluster format=cluster -P | grep -qx "$CLUSTER" || sacctmgr_lab add cluster "$CLUSTER" >/dev/null
    sacctmgr_lab -n list qos format=name -P | grep -qx high || sacctmgr_lab add qos high priority=1000 >/dev/null
    sacctmgr_lab -n list account format=account -P | grep -qx lab ||
        sacctmgr_lab add account lab cluster="$CLUSTER" description=ds01-lab organization=ds01 >/dev/null
    sacctmgr_lab modify account lab set qos=normal,high defaultqos=normal >/dev/null || true
}

start_slurmctld() {
    pid_of "$DIR/run/slurmctld.pid" slurmctld >/dev/null && return 0
    SLURM_CONF="$CONF" setsid slurmctld -f "$CONF" </dev/null >>"$DIR/log/slurmctld.out" 2>&1
    wait_for 30 slurmctld env SLURM_CONF="$CONF" scontrol ping
}

start_slurmd() {
    local n
    for n in "${NODES[@]}"; do
        pid_of "$DIR/run/slurmd-$n.pid" slurmd >/dev/null && continue
        SLURM_CONF="$CONF" setsid slurmd -f "$CONF" -N "$n" </dev/null >>"$DIR/log/slurmd-$n.out" 2>&1
    done
    wait_for 30 "the slurmd nodes" nodes_up
}

nodes_up() {
    local states
    states="$(SLURM_CONF="$CONF" sinfo -h -N -o '%N %t' 2>/dev/null)" || return 1
    [ "$(printf '%s\n' "$states" | grep -cE ' (idle|alloc|mix)$')" -eq ${#NODES[@]} ]
}

start() {
    mkdir -p "$DIR/log"
    install_if_missing
    write_config
    start_munge
    start_mariadb
    start_slurmdbd
    start_slurmctld
    start_slurmd
    log "up: cluster $CLUSTER, nodes ${NODES[*]}, slurmctld port $CTLD_PORT"
    print_env
}

stop_one() { # pidfile comm
    local pid n
    pid="$(pid_of "$1" "$2")" || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for n in $(seq 1 100); do [ -d "/proc/$pid" ] || return 0; sleep 0.1; done
    log "$2 ($pid) did not stop on TERM; killing it"
    kill -KILL "$pid" 2>/dev/null || true
}

stop() {
    local n
    # Nodes first, so that their Epilogs run while the controller still answers.
    SLURM_CONF="$CONF" scancel --full --quiet -p lab 2>/dev/null || true
    for n in "${NODES[@]}"; do stop_one "$DIR/run/slurmd-$n.pid" slurmd; done
    stop_one "$DIR/run/slurmctld.pid" slurmctld
    stop_one "$DIR/run/slurmdbd.pid" slurmdbd
    stop_one "$DIR/run/mariadbd.pid" mariadbd
    stop_one "$DIR/munge/munged.pid" munged
    log "stopped"
}

status() {
    pid_of "$DIR/munge/munged.pid" munged >/dev/null && pid_of "$DIR/run/mariadbd.pid" mariadbd >/dev/null &&
        pid_of "$DIR/run/slurmdbd.pid" slurmdbd >/dev/null && pid_of "$DIR/run/slurmctld.pid" slurmctld >/dev/null && nodes_up
}

case "$cmd" in
    start) start ;;
    stop) stop ;;
    env) print_env ;;
    status) status ;;
    *) echo "usage: $0 start|stop|env|status [DIR]" >&2; exit 2 ;;
esac
