#!/usr/bin/env bash
# Installs the Kentongan gateway as a systemd service on Raspberry Pi OS (Debian 12, bookworm).
# Run as root from a checkout at /opt/kentongan:  sudo bash /opt/kentongan/gateway/deploy/install.sh
# Idempotent: run it again after `git pull`. Never overwrites an existing config or password file.
set -euo pipefail

APP_DIR=/opt/kentongan
DEPLOY="$APP_DIR/gateway/deploy"
CONF_DIR=/etc/kentongan

if [[ $EUID -ne 0 ]]; then echo "run as root (sudo)" >&2; exit 1; fi
if [[ ! -f "$APP_DIR/gateway/src/main.ts" ]]; then echo "no checkout at $APP_DIR (git clone … $APP_DIR)" >&2; exit 1; fi
command -v node >/dev/null || { echo "Node.js 20 is needed: see $DEPLOY/README.md" >&2; exit 1; }
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' || { echo "Node.js >= 20 needed" >&2; exit 1; }

# Service user without login or home; serial ports and GPIO through its groups.
id -u kentongan >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin kentongan
getent group gpio >/dev/null || groupadd --system gpio
usermod -aG dialout,gpio kentongan

# Dependencies (tsx runs the TypeScript sources; it is a devDependency, so a full `npm ci`).
(cd "$APP_DIR" && npm ci --no-audit --no-fund)

install -d -m 0755 "$CONF_DIR"
[[ -f "$CONF_DIR/gateway.json" ]] || install -m 0640 -g kentongan "$DEPLOY/gateway.example.json" "$CONF_DIR/gateway.json"
[[ -f "$CONF_DIR/gateway.env" ]] || install -m 0600 "$DEPLOY/gateway.env.example" "$CONF_DIR/gateway.env"
install -d -m 0755 /etc/systemd/journald.conf.d
install -m 0644 "$DEPLOY/journald-kentongan.conf" /etc/systemd/journald.conf.d/kentongan.conf
install -m 0644 "$DEPLOY/kentongan-gateway.service" /etc/systemd/system/kentongan-gateway.service

systemctl restart systemd-journald
systemctl daemon-reload
systemctl enable kentongan-gateway.service
echo "Installed. Edit $CONF_DIR/gateway.json and $CONF_DIR/gateway.env, then: systemctl start kentongan-gateway"
