#!/usr/bin/env bash
# The per-instruction-set objects (kernels/cpu/isa/kernels_isa.cpp and viz/isa/png_isa.cpp, one
# per set) may define nothing global or weak outside their own namespace (headmap::cpu::isa_<set>,
# headmap::viz::isa_<set>): an inline function
# or template instantiated there with AVX-512 code could be picked by the linker for the whole
# program, and crash a CPU without it. Prints each stray symbol and exits 1 when there is one.
#   tools/check_isa_objects.sh OBJECT...
set -euo pipefail
(($#)) || { echo "check_isa_objects: no object files given" >&2; exit 2; }
status=0
for object in "$@"; do
  set_name=$(sed -nE 's|.*headmap_[a-z]+_isa_([a-z0-9]+)\.dir.*|\1|p' <<<"$object")
  room=$(sed -nE 's|.*headmap_([a-z]+)_isa_[a-z0-9]+\.dir.*|\1|p' <<<"$object")
  namespace=headmap::cpu::isa_${set_name}::
  [[ $room == viz ]] && namespace=headmap::viz::isa_${set_name}::
  [[ -n $set_name ]] || { echo "check_isa_objects: $object: not an ISA object" >&2; exit 2; }
  # Global (upper-case type) and weak/unique (W, V, u) definitions; locals are the object's own,
  # and AddressSanitizer's ODR markers (__odr_asan.<name>) are data it adds beside each global.
  stray=$(nm -C --defined-only "$object" | awk '$2 ~ /^[A-Z]$|^u$/ && $3 !~ /^__odr_asan\./' |
          grep -v "$namespace" || true)
  table=1  # the kernels' objects each define their table
  [[ $room == kernels ]] &&
    table=$(nm -C --defined-only "$object" | grep -c "${namespace}table" || true)
  if [[ -n $stray ]]; then
    echo "check_isa_objects: $object defines symbols outside ${namespace%::}:" >&2
    echo "$stray" >&2
    status=1
  fi
  if [[ $table != 1 ]]; then
    echo "check_isa_objects: $object does not define ${namespace}table" >&2
    status=1
  fi
done
[[ $status == 0 ]] && echo "check_isa_objects: $# objects, nothing outside their namespaces"
exit $status
