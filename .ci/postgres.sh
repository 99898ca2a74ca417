# shellcheck shell=bash
# Sourced by .ci/run: a local PostgreSQL for the tests that run on both engines (the storage,
# daily-run and linking suites), and STRIDE_TEST_POSTGRES_URL pointing at it.
#
# Debian's `postgresql` package (installed if missing), its cluster ($STRIDE_CI_PG_CLUSTER,
# default "main", created if there is none) started on loopback (Debian's default
# listen_addresses is localhost) unless it already runs; PostgreSQL refuses to run as root,
# so the cluster is run by pg_ctlcluster as its owner and psql as the postgres user. Then a
# role and a database for the tests (the role may create databases: each test copies a
# migrated template). An STRIDE_TEST_POSTGRES_URL already set is used as it is.

ci_postgres() {
  if [ -n "${STRIDE_TEST_POSTGRES_URL:-}" ]; then
    echo "ci: PostgreSQL tests use the given STRIDE_TEST_POSTGRES_URL"
    return 0
  fi
  local as_root=() as_postgres=(runuser -u postgres --)
  if [ "$(id -u)" -ne 0 ]; then
    as_root=(sudo)
    as_postgres=(sudo -u postgres)
  fi
  if ! command -v pg_ctlcluster >/dev/null || ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
    echo "ci: installing PostgreSQL (Debian's postgresql package)"
    "${as_root[@]}" apt-get update -qq
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq --no-install-recommends postgresql
  fi
  local cluster="${STRIDE_CI_PG_CLUSTER:-main}" version port status
  version=$(pg_lsclusters --no-header | awk -v c="$cluster" '$2 == c {print $1; exit}')
  if [ -z "$version" ]; then
    version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
    echo "ci: creating the PostgreSQL $version cluster $cluster"
    "${as_root[@]}" pg_createcluster "$version" "$cluster" >/dev/null
  fi
  port=$(pg_lsclusters --no-header | awk -v c="$cluster" '$2 == c {print $3; exit}')
  status=$(pg_lsclusters --no-header | awk -v c="$cluster" '$2 == c {print $4; exit}')
  if [ "$status" != "online" ]; then
    echo "ci: starting the PostgreSQL $version cluster $cluster on port $port"
    "${as_root[@]}" pg_ctlcluster "$version" "$cluster" start
  fi
  pg_isready -q -h 127.0.0.1 -p "$port" -t 30
  "${as_postgres[@]}" psql -q -X -v ON_ERROR_STOP=1 -p "$port" -d postgres <<'SQL'
SELECT 'CREATE ROLE stride' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'stride')
\gexec
ALTER ROLE stride WITH LOGIN CREATEDB PASSWORD 'stride';
SELECT 'CREATE DATABASE stride_test OWNER stride'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'stride_test')
\gexec
SQL
  export STRIDE_TEST_POSTGRES_URL="postgresql://stride:stride@127.0.0.1:$port/stride_test"
  echo "ci: PostgreSQL $version ($cluster) ready on 127.0.0.1:$port"
}
