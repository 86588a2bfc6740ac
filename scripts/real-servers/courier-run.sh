#!/bin/sh
# Runs the unpacked Courier mail server (scripts/real-servers/install.sh
# courier) in the private mount namespace it needs. Called by
# scripts/real-servers.sh as
#   unshare -m --propagation private sh courier-run.sh setup|run ROOT DIR PORT [RESOLV HOSTS]
# ROOT: the unpacked packages; DIR: $STATE/courier (etc/, var/, run/, home/,
# Maildir/); RESOLV/HOSTS: the no-DNS resolv.conf and hosts (real-servers.sh
# no_dns_files), bound over the system's.
#
# Courier's programs have their paths compiled in (/etc/courier,
# /usr/lib/courier, /usr/lib/courier-authlib, /var/lib/courier,
# /run/courier): in this namespace those empty mount points show DIR's
# directories and ROOT's programs, nowhere else.
#   setup: builds the databases of the configuration (aliases.dat,
#          userdb.dat, esmtpacceptmailfor.dat) and exits.
#   run:   authdaemond (the userdb lookups of the local module), courierd
#          (the scheduler: local deliveries into DIR/Maildir) and
#          couriertcpd + courieresmtpd on 127.0.0.1:PORT in the foreground;
#          every process stays in the caller's process group, so stopping
#          that group stops Courier. When one of the three exits, the others
#          are stopped and the script exits 1.
set -eu
mode=$1 root=$2 d=$3 port=$4
mount --bind "$d/etc" /etc/courier
mount --bind "$d/var" /var/lib/courier
mount --bind "$d/run" /run/courier
mount --bind "$root/usr/lib/courier" /usr/lib/courier
mount --bind "$root/usr/lib/courier-authlib" /usr/lib/courier-authlib
if [ $# -ge 6 ]; then
  mount --bind "$5" /etc/resolv.conf
  mount --bind "$6" /etc/hosts
fi
export LD_LIBRARY_PATH="$root/usr/lib"
# Every process of ours inherits this mark: real-servers.sh finds them by it
# even after this script is gone (couriertcpd runs in a session of its own).
export SMTP_HARNESS_COURIER="$d"
export PATH="$root/usr/bin:$root/usr/sbin:/usr/bin:/bin:/usr/sbin:/sbin"
cd /usr

case $mode in
  setup)
    "$root/usr/sbin/makealiases"
    "$root/usr/sbin/makeuserdb"
    # makeacceptmailfor, with the unpacked makedat (Debian's is an
    # alternative in /usr/bin that the unpack does not make).
    "$root/usr/bin/makedat.courier" -src=/etc/courier/esmtpacceptmailfor.dir \
      -file=/etc/courier/esmtpacceptmailfor.dat -tmp=/etc/courier/esmtpacceptmailfor.tmp
    exit 0
    ;;
  run) ;;
  *)
    echo "courier-run.sh: unknown mode '$mode'" >&2
    exit 2
    ;;
esac

# The daemons' configuration, exported as their init scripts do (set -a).
set -a
. /etc/courier/authdaemonrc
. /etc/courier/courierd
. /etc/courier/esmtpd
set +a
export LD_LIBRARY_PATH="$root/usr/lib"

mkdir -p /run/courier/authdaemon
chown courier:courier /run/courier/authdaemon
chmod 750 /run/courier/authdaemon
/usr/lib/courier/courier-authlib/authdaemond &
auth=$!
/usr/lib/courier/courier/courierd &
sched=$!
"$root/usr/sbin/couriertcpd" -address=127.0.0.1 -nodnslookup -noidentlookup \
  -user="$MAILUSER" -group="$MAILGROUP" -maxprocs="$MAXDAEMONS" -maxperc="$MAXPERC" \
  -maxperip="$MAXPERIP" "$port" /usr/lib/courier/courier/modules/esmtp/courieresmtpd &
tcpd=$!
# couriertcpd makes its own session: on TERM it is signalled and waited for
# here (it stops its courieresmtpd children).
trap 'kill $auth $sched $tcpd 2>/dev/null; wait; exit 0' TERM INT
# POSIX sh has no "wait -n": poll (bounded only by the daemons' lives).
while kill -0 $auth 2>/dev/null && kill -0 $sched 2>/dev/null && kill -0 $tcpd 2>/dev/null; do
  sleep 1
done
echo "courier-run.sh: a daemon exited (authdaemond $auth, courierd $sched, couriertcpd $tcpd); stopping" >&2
kill $auth $sched $tcpd 2>/dev/null || true
exit 1
