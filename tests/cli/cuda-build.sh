# cuda-build: the CUDA build of this machine behaves without a GPU. The op tests (built by make
# when nvcc + cuBLAS are found) either pass on a visible device or say "skip: no CUDA device"
# and exit 77; tools that never use CUDA carry no CUDA library dependency (ft-eval and ft-train
# offer --device cuda, so they may; without a device they run on the CPU like the others: make test).
. "$FT_ROOT/tests/lib.sh"
t=$FT_ROOT/build/cuda/test_cuda_ops
[ -x "$t" ] || skip "no CUDA build (make found no nvcc/cuBLAS)"
set +e; "$t" >out 2>err; rc=$?; set -e
case $rc in
  77) expect_in "skip: no CUDA device" out ;;
  0) expect_in " 0 failed" out ;;
  *) cat out err >&2; fail "test_cuda_ops exited $rc" ;;
esac
for b in "$FT_BIN"/ft-*; do
  case "$(basename "$b")" in ft-eval | ft-train) continue ;; esac
  if ldd "$b" 2>/dev/null | grep -q 'libcudart\|libcublas'; then fail "$b links the CUDA libraries"; fi
done
