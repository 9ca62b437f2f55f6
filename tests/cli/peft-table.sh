# PEFT kinds live in one table (lib/peft/peft_kind.h, the rows lib/peft/peft_*.c, the registry
# lib/peft/peft_kinds.c): no code outside the registry compares a --method name or an
# adapter_config.json peft_type (the rows carry the names; everything else looks them up).
. "$FT_ROOT/tests/lib.sh"
cd "$FT_ROOT"
[ -f lib/peft/peft_kinds.c ] || fail "lib/peft/peft_kinds.c (the PEFT kind registry) is missing"
names='"(LORA|PROMPT_TUNING|PREFIX_TUNING|BOTTLENECK|IA3|ADALORA|full|lora|qlora|dora|prompt|prefix|adapter)"'
hits=$(grep -rnE "str(n?case)?cmp[^;]*(method|peft_type|\bpt\b|$names)" lib tools kernels \
         --include='*.c' --include='*.h' --include='*.cu' | grep -vE '^lib/peft/peft_kinds\.c:' || true)
[ -z "$hits" ] || fail "method or peft_type names compared outside lib/peft/peft_kinds.c:
$hits"
# and the registry itself compares only through its two lookups
n=$(grep -cE 'strcmp' lib/peft/peft_kinds.c)
[ "$n" -le 2 ] || fail "lib/peft/peft_kinds.c compares names in $n places (expected its two lookups)"
echo "peft table: no method or peft_type name compared outside lib/peft/peft_kinds.c"
