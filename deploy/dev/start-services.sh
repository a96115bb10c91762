#!/usr/bin/env bash
# Installs (Debian) and starts what the tests need: PostgreSQL, RabbitMQ, libvirtd + QEMU, docker-compose,
# Chromium (the portal tests drive it with Playwright) and Node.js + npm (the portal build installs its front-end packages);
# ssh-keygen and openssl are the reference tools of the key pair tests; Debian's awscli and python3-boto3 are the EC2 API tests' clients.
# Idempotent; runs as root (there is no systemd here, so each daemon is started by hand).
set -euo pipefail

log() { echo "[services] $*"; }

PACKAGES=(postgresql rabbitmq-server libvirt-daemon-system libvirt-clients libvirt0 qemu-system-x86 qemu-utils docker-compose curl python3-boto3 awscli openssh-client openssl chromium)
# npm: Debian's nodejs + npm only where no Node.js is installed (a NodeSource nodejs carries its own npm and
# conflicts with Debian's npm package).
command -v npm >/dev/null 2>&1 || PACKAGES+=(nodejs npm)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- PostgreSQL: a role that may create one database per module and per test.
PG_VERSION=$(pg_lsclusters -h | awk 'NR==1{print $1}')
PG_CLUSTER=$(pg_lsclusters -h | awk 'NR==1{print $2}')
if [ -z "${PG_VERSION}" ]; then
  PG_VERSION=$(ls /usr/lib/postgresql | sort -V | tail -1); PG_CLUSTER=main
  pg_createcluster "$PG_VERSION" "$PG_CLUSTER" >/dev/null
fi
if ! pg_lsclusters -h | awk -v v="$PG_VERSION" -v c="$PG_CLUSTER" '$1==v && $2==c {print $4}' | grep -q online; then
  log "starting PostgreSQL $PG_VERSION/$PG_CLUSTER"
  pg_ctlcluster "$PG_VERSION" "$PG_CLUSTER" start
fi
for _ in $(seq 1 30); do su postgres -c "psql -qtAc 'select 1'" >/dev/null 2>&1 && break; sleep 1; done
su postgres -c "psql -qtAc \"select 1 from pg_roles where rolname='cloudportal'\"" | grep -q 1 \
  || su postgres -c "psql -qc \"create role cloudportal login createdb password 'cloudportal'\""
# Tests start many processes at once, each with a pool per module database.
su postgres -c "psql -qtAc 'show max_connections'" | grep -qx 500 || {
  su postgres -c "psql -qc 'alter system set max_connections = 500'"
  pg_ctlcluster "$PG_VERSION" "$PG_CLUSTER" restart
}

# --- RabbitMQ: management API on for per-test virtual hosts; the control plane's user, tagged administrator (it
# registers nodes) and impersonator (it moves a node's failed report to an error queue, user_id and all: ADR 0015).
export RABBITMQ_NODENAME=rabbit@localhost
if ! rabbitmqctl -n rabbit@localhost status >/dev/null 2>&1; then
  rabbitmq-plugins --offline enable rabbitmq_management >/dev/null
  log "starting RabbitMQ"
  rabbitmq-server -detached
fi
# -detached returns before the node registers with epmd; await_startup only works once it has.
for _ in $(seq 1 60); do rabbitmqctl -n rabbit@localhost await_startup >/dev/null 2>&1 && break; sleep 1; done
rabbitmqctl -n rabbit@localhost await_startup >/dev/null
if ! rabbitmqctl -n rabbit@localhost list_users -q | awk '{print $1}' | grep -qx cloudportal; then
  rabbitmqctl -n rabbit@localhost add_user cloudportal cloudportal >/dev/null
  rabbitmqctl -n rabbit@localhost set_permissions -p / cloudportal ".*" ".*" ".*" >/dev/null
fi
rabbitmqctl -n rabbit@localhost set_user_tags cloudportal administrator impersonator >/dev/null
for _ in $(seq 1 30); do curl -sf -u cloudportal:cloudportal http://127.0.0.1:15672/api/overview >/dev/null && break; sleep 1; done

# --- libvirt: QEMU runs as root so it can open /dev/kvm (root-only here).
if ! grep -q '^user = "root"' /etc/libvirt/qemu.conf; then
  printf 'user = "root"\ngroup = "root"\n' >> /etc/libvirt/qemu.conf
fi
pgrep -x virtlogd >/dev/null || virtlogd -d
if ! pgrep -x libvirtd >/dev/null; then
  log "starting libvirtd"
  libvirtd -d
fi
for _ in $(seq 1 30); do virsh -c qemu:///system version >/dev/null 2>&1 && break; sleep 1; done
virsh -c qemu:///system version >/dev/null

log "PostgreSQL, RabbitMQ and libvirtd are up"
