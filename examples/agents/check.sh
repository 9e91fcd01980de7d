#!/bin/sh
# Stand-in for a checker (a linter, a test shard): reports progress on stderr, a verdict on
# stdout. DO_ITEM is the loop's item as JSON (here a component name).
set -eu
echo "::progress 30" >&2
echo "checking $DO_ITEM" >&2
echo "::progress 100" >&2
printf '{"component":%s,"ok":true}\n' "$DO_ITEM"
