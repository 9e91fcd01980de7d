#!/bin/sh
# Stands in for a deploy agent: "publishes" the workspace and outputs its URL.
set -eu
mkdir -p site
cp ./*.txt site/ 2>/dev/null || true
echo "file://$PWD/site/"
