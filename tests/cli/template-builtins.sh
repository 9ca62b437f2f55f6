# The built-in templates render the formats the model families document (hand-written
# expectations for system + user + assistant, and the generation prompt after a user turn).
source "$FT_ROOT/tests/lib.sh"
command -v jq >/dev/null || skip "jq not installed"
echo '{"messages":[{"role":"system","content":"S"},{"role":"user","content":"Q"},{"role":"assistant","content":"A"}]}' >sys.jsonl
echo '{"messages":[{"role":"user","content":"Q"},{"role":"assistant","content":"A"}]}' >nosys.jsonl
check() {   # check NAME INPUT EXPECTED(printf %b) [--generation-prompt]
  local got
  got=$(ft-template -t "$1" ${4:-} "$2" | jq -j '[.segments[].text] | join("")')
  [ "$got" = "$(printf '%b' "$3")" ] || fail "$1 ${4:-}: got $(jq -Rn --arg s "$got" '$s')"
}
check chatml sys.jsonl '<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\nA<|im_end|>\n'
check chatml sys.jsonl '<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n' --generation-prompt
check llama2 sys.jsonl '<s>[INST] <<SYS>>\nS\n<</SYS>>\n\nQ [/INST] A </s>'
check llama3 sys.jsonl '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nS<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nQ<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nA<|eot_id|>'
check llama3 sys.jsonl '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nS<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nQ<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n' --generation-prompt
check mistral sys.jsonl '<s> [INST] S\n\nQ [/INST] A</s>'
check mistral nosys.jsonl '<s> [INST] Q [/INST] A</s>'
check gemma nosys.jsonl '<bos><start_of_turn>user\nQ<end_of_turn>\n<start_of_turn>model\nA<end_of_turn>\n'
check gemma nosys.jsonl '<bos><start_of_turn>user\nQ<end_of_turn>\n<start_of_turn>model\n' --generation-prompt
check phi3 sys.jsonl '<|system|>\nS<|end|>\n<|user|>\nQ<|end|>\n<|assistant|>\nA<|end|>\n<|endoftext|>'
check phi3 sys.jsonl '<|system|>\nS<|end|>\n<|user|>\nQ<|end|>\n<|assistant|>\n' --generation-prompt
check zephyr sys.jsonl '<|system|>\nS</s>\n<|user|>\nQ</s>\n<|assistant|>\nA</s>\n'
check zephyr sys.jsonl '<|system|>\nS</s>\n<|user|>\nQ</s>\n<|assistant|>\n' --generation-prompt
check alpaca sys.jsonl 'S\n\n### Instruction:\nQ\n\n### Response:\nA</s>\n\n'
check alpaca nosys.jsonl 'Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n### Instruction:\nQ\n\n### Response:\nA</s>\n\n'
check vicuna sys.jsonl 'S USER: Q ASSISTANT: A</s>'
check vicuna nosys.jsonl "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, detailed, and polite answers to the user's questions. USER: Q ASSISTANT: A</s>"
[ "$(ft-template --list-templates | tr '\n' ' ')" = "chatml llama2 llama3 mistral gemma phi3 zephyr alpaca vicuna " ] || fail "--list-templates"
