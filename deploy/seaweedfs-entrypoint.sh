#!/bin/sh
# SeaweedFS's S3 identities, written from the environment at every container start (no key is
# committed), then `weed` with the arguments given and that file as its -s3.config.
#   S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY: the API and the worker, limited to S3_BUCKET
#   S3_ADMIN_ACCESS_KEY_ID / S3_ADMIN_SECRET_ACCESS_KEY: creates the bucket (the migrate job)
set -eu

: "${S3_ACCESS_KEY_ID:?}" "${S3_SECRET_ACCESS_KEY:?}" "${S3_BUCKET:?}"
: "${S3_ADMIN_ACCESS_KEY_ID:?}" "${S3_ADMIN_SECRET_ACCESS_KEY:?}"
if [ "$S3_ADMIN_ACCESS_KEY_ID" = "$S3_ACCESS_KEY_ID" ]; then
  echo "S3_ADMIN_ACCESS_KEY_ID must differ from S3_ACCESS_KEY_ID" >&2
  exit 1
fi
config="${SEAWEEDFS_S3_CONFIG:-/tmp/seaweedfs-s3.json}"

# A JSON string: backslashes and double quotes escaped.
json() { printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"; }

mkdir -p "$(dirname "$config")"
umask 077
cat > "$config" <<JSON
{
  "identities": [
    {
      "name": "sellerflow-admin",
      "credentials": [
        {"accessKey": $(json "$S3_ADMIN_ACCESS_KEY_ID"), "secretKey": $(json "$S3_ADMIN_SECRET_ACCESS_KEY")}
      ],
      "actions": ["Admin", "Read", "Write", "List", "Tagging"]
    },
    {
      "name": "sellerflow",
      "credentials": [
        {"accessKey": $(json "$S3_ACCESS_KEY_ID"), "secretKey": $(json "$S3_SECRET_ACCESS_KEY")}
      ],
      "actions": [
        $(json "Read:$S3_BUCKET"), $(json "Write:$S3_BUCKET"),
        $(json "List:$S3_BUCKET"), $(json "Tagging:$S3_BUCKET")
      ]
    }
  ]
}
JSON
exec weed "$@" "-s3.config=$config"
