#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for the Slurm tests and the Slurm benchmark, started
# without systemd (../shared/SERVICES.md's recipe). Run as root. Does nothing if `sinfo` already
# answers; with --install, first installs slurm-wlm and munge from Debian (what .ci/run does).
#
# The node offers 8 slots per core (SlurmdParameters=config_overrides): the test jobs are tiny, and
# with one slot per core the one node would run two at a time. The scheduler settings are the ones
# that matter for throughput (batch_sched_delay=0, sched_min_interval=0, backfill); without them
# 200 trivial jobs take ~270 s instead of ~100 s. No accounting: ends are read from squeue and
# from the job-completion file (sacct -c).
set -euo pipefail

if [ "${1:-}" = "--install" ]; then
    command -v slurmctld >/dev/null && command -v munged >/dev/null || {
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
    }
fi

if sinfo -h >/dev/null 2>&1; then
    echo "Slurm already answers:"; sinfo; exit 0
fi

H=$(hostname -s)
# slurmd and slurmctld find each other by this name; a fresh container may not resolve its own.
getent hosts "$H" >/dev/null || echo "127.0.0.1 $H" >> /etc/hosts
CPUS=$(( $(nproc) * 8 ))
MEM=$(( $(awk '/MemTotal/{print $2}' /proc/meminfo) / 1024 - 512 ))
TMP=$(( $(df -Pm /tmp | awk 'NR==2{print $4}') / 2 ))

[ -f /etc/munge/munge.key ] || { mkdir -p /etc/munge; dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null; chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key; }
mkdir -p /run/munge && chown munge:munge /run/munge
pgrep -x munged >/dev/null || runuser -u munge -- /usr/sbin/munged
mkdir -p /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /var/lib/slurm /etc/slurm
chown slurm:slurm /var/spool/slurmctld /var/log/slurm

cat > /etc/slurm/slurm.conf <<CONF
ClusterName=ar
SlurmctldHost=$H
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SlurmdParameters=config_overrides
ReturnToService=2
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=/var/log/slurm/jobcomp.txt
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmUser=slurm
MinJobAge=300
MaxJobCount=100000
NodeName=$H CPUs=$CPUS RealMemory=$MEM TmpDisk=$TMP State=UNKNOWN
PartitionName=debug Nodes=$H Default=YES MaxTime=INFINITE State=UP
CONF

slurmctld -i
slurmd
# Both daemonise; the node reports in within a few seconds.
for _ in $(seq 100); do sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)' && break; sleep 0.2; done
sinfo
sinfo -h -o %T | grep -qE '^(idle|mixed|allocated)' || { echo "Slurm did not come up; see /var/log/slurm/" >&2; exit 1; }
