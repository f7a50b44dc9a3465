#!/usr/bin/env bash
# Installs the headless ObjectTwin gateway as a systemd service, e.g. on a Raspberry Pi
# (docs/raspberry-pi.md). Run as root from an unpacked gateway tarball (or a checkout):
#
#   tar xzf objecttwin-gateway-<version>.tgz
#   sudo package/scripts/install-gateway.sh --server coap://lwm2m.example.org:5683
#
# What it does, each step skipped when already done:
#   1. Node.js: keeps a system Node 22.12 or newer; otherwise installs Node 24 from NodeSource (apt).
#   2. a system user `objecttwin` (no login, no home of its own) for the service.
#   3. the app in /opt/objecttwin/gateway (owned by root, read-only to the service) and its
#      production dependencies (npm install --omit=dev; noble's prebuilt binaries, nothing compiled).
#   4. /etc/objecttwin/gateway.env with the server, endpoint and adapter (kept if it exists).
#   5. the unit /etc/systemd/system/objecttwin-gateway.service, enabled and started.
# The unit grants CAP_NET_RAW and CAP_NET_ADMIN to the service alone. --setcap-node also grants them
# to the node binary, so `objecttwin gateway` run by hand can open the adapter too (every node
# program on the machine then can: only for a dedicated gateway).
set -euo pipefail

APP_DIR=/opt/objecttwin/gateway
CONF_DIR=/etc/objecttwin
UNIT=/etc/systemd/system/objecttwin-gateway.service
SERVICE_USER=objecttwin
SOURCE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

server=''
endpoint=''
adapter=''
setcap_node=0
start=1

usage() {
  cat <<USAGE
usage: sudo $0 --server coap://HOST:PORT [--endpoint NAME] [--adapter hci|hci:N|uart:PATH|virtual] [--setcap-node] [--no-start]

  --server       the LwM2M server the gateway registers with (required unless $CONF_DIR/gateway.env has one)
  --endpoint     the gateway's endpoint name (default: the host name)
  --adapter      the Bluetooth adapter (default: hci, i.e. hci0)
  --setcap-node  also give the node binary cap_net_raw,cap_net_admin (for foreground runs)
  --no-start     install and enable, but do not start the service now
USAGE
}

die() {
  echo "install-gateway: $*" >&2
  exit 1
}

while [ $# -gt 0 ]; do
  case "$1" in
    --server) server=${2:-}; shift 2 ;;
    --endpoint) endpoint=${2:-}; shift 2 ;;
    --adapter) adapter=${2:-}; shift 2 ;;
    --setcap-node) setcap_node=1; shift ;;
    --no-start) start=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option $1" ;;
  esac
done

[ "$(id -u)" -eq 0 ] || die "run as root (sudo)"
[ -f "$SOURCE_DIR/bin/objecttwin.js" ] || die "no bin/objecttwin.js under $SOURCE_DIR: run the script from the unpacked tarball"
command -v systemctl >/dev/null || die "systemd is required"
if [ -z "$server" ] && ! grep -qs '^OBJECTTWIN_SERVER=' "$CONF_DIR/gateway.env"; then
  usage >&2
  die "--server is required on the first install"
fi
case "$server" in ''|coap://*|coaps://*) ;; *) die "--server must be a coap:// or coaps:// URL, not $server" ;; esac

# 1. Node.js 22.12+ (24 LTS recommended): the gateway runs its TypeScript with Node's type stripping.
node_ok() {
  command -v node >/dev/null && node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 22 || (a === 22 && b >= 12) ? 0 : 1)'
}
if ! node_ok; then
  command -v apt-get >/dev/null || die "Node.js 22.12 or newer is required; install Node 24 (https://nodejs.org) and run this again"
  echo "install-gateway: installing Node.js 24 from NodeSource"
  apt-get update -qq
  apt-get install -y -qq ca-certificates curl >/dev/null
  curl -fsSL https://deb.nodesource.com/setup_24.x | bash -
  apt-get install -y -qq nodejs >/dev/null
  node_ok || die "Node.js is still older than 22.12 after installing it"
fi
echo "install-gateway: node $(node -v)"

# 2. The service user.
if ! id -u "$SERVICE_USER" >/dev/null 2>&1; then
  useradd --system --no-create-home --home-dir /var/lib/objecttwin --shell /usr/sbin/nologin "$SERVICE_USER"
  echo "install-gateway: created the system user $SERVICE_USER"
fi

# 3. The app and its production dependencies (a new version replaces the old one whole).
if [ "$SOURCE_DIR" != "$APP_DIR" ]; then
  rm -rf "$APP_DIR.new"
  mkdir -p "$APP_DIR.new"
  (cd "$SOURCE_DIR" && tar --exclude=./node_modules --exclude=./.git -cf - .) | tar -xf - -C "$APP_DIR.new"
  (cd "$APP_DIR.new" && npm install --omit=dev --no-audit --no-fund --loglevel=error)
  rm -rf "$APP_DIR.old"
  if [ -d "$APP_DIR" ]; then mv "$APP_DIR" "$APP_DIR.old"; fi
  mv "$APP_DIR.new" "$APP_DIR"
  rm -rf "$APP_DIR.old"
fi
chown -R root:root "$APP_DIR"
echo "install-gateway: app in $APP_DIR"

# 4. Settings (an existing file is kept; given options replace its lines).
mkdir -p "$CONF_DIR"
touch "$CONF_DIR/gateway.env"
set_env() {
  local key=$1 value=$2
  [ -n "$value" ] || return 0
  sed -i "/^$key=/d" "$CONF_DIR/gateway.env"
  printf '%s=%s\n' "$key" "$value" >>"$CONF_DIR/gateway.env"
}
set_env OBJECTTWIN_SERVER "$server"
set_env OBJECTTWIN_ENDPOINT "$endpoint"
set_env OBJECTTWIN_ADAPTER "$adapter"
chmod 0644 "$CONF_DIR/gateway.env"
echo "install-gateway: settings in $CONF_DIR/gateway.env"

# 5. The unit.
install -m 0644 "$APP_DIR/scripts/objecttwin-gateway.service" "$UNIT"
systemctl daemon-reload
systemctl enable objecttwin-gateway.service >/dev/null
if [ "$setcap_node" -eq 1 ]; then
  command -v setcap >/dev/null || apt-get install -y -qq libcap2-bin >/dev/null
  setcap cap_net_raw,cap_net_admin+eip "$(readlink -f "$(command -v node)")"
  echo "install-gateway: node may open raw HCI sockets (setcap)"
fi
if [ "$start" -eq 1 ]; then
  systemctl restart objecttwin-gateway.service
  echo "install-gateway: started; follow it with: journalctl -u objecttwin-gateway -f"
else
  echo "install-gateway: enabled; start it with: systemctl start objecttwin-gateway"
fi
