#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers on 127.0.0.1:5432 (installing Debian's package and
# starting its cluster when needed) and that the database named by DATABASE_URL exists.
set -euo pipefail

url="${DATABASE_URL:?DATABASE_URL must be set}"
db="${url##*/}"; db="${db%%\?*}"
admin_url="${url%/*}/postgres"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

if ! command -v pg_ctlcluster >/dev/null; then
  echo "installing PostgreSQL from Debian's packages"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
fi

if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  echo "starting PostgreSQL $version"
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main start
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi

if ! psql "$admin_url" -qtAc 'select 1' >/dev/null 2>&1; then
  # A fresh Debian cluster asks for a password over TCP; give the local superuser the
  # development password that the default DATABASE_URL carries.
  echo "setting the development password of the local postgres role"
  $SUDO -u postgres psql -qc "ALTER USER postgres PASSWORD 'postgres'" 2>/dev/null \
    || su postgres -c "psql -qc \"ALTER USER postgres PASSWORD 'postgres'\""
fi

if [ "$(psql "$admin_url" -qtAc "select 1 from pg_database where datname = '$db'")" != "1" ]; then
  psql "$admin_url" -qc "create database \"$db\""
  echo "created database $db"
fi
