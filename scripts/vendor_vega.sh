#!/usr/bin/env bash
# Refresh the browser bundles of vega / vega-lite / vega-embed shipped in
# src/explainer/static/ from the npm registry, at the versions the installed
# Altair asks for (alt.VEGA_VERSION etc.). Run after bumping the altair pin;
# tests/test_charts.py fails until the bundles match.
set -euo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-.venv/bin/python}
read -r vega vl embed < <("$py" -c 'import altair as a; print(a.VEGA_VERSION.split(".")[0], a.VEGALITE_VERSION, a.VEGAEMBED_VERSION.split(".")[0])')
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "vega@$vega" "vega-lite@$vl" "vega-embed@$embed" >/dev/null)
out=src/explainer/static
mkdir -p "$out"
echo "{" > "$out/VERSIONS.json"
sep=""
for name in vega vega-lite vega-embed; do
  tgz=$(ls "$tmp"/$name-[0-9]*.tgz)
  mkdir -p "$tmp/$name" && tar xzf "$tgz" -C "$tmp/$name"
  cp "$tmp/$name/package/build/$name.min.js" "$out/$name.min.js"
  cp "$tmp/$name/package/LICENSE" "$out/$name.LICENSE.txt"
  version=$("$py" -c "import json,sys; print(json.load(open(sys.argv[1]))['version'])" "$tmp/$name/package/package.json")
  printf '%s  "%s": "%s"' "$sep" "$name" "$version" >> "$out/VERSIONS.json"
  sep=$',\n'
done
printf '\n}\n' >> "$out/VERSIONS.json"
cat "$out/VERSIONS.json"
