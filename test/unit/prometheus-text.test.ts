import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePrometheusText, parsePrometheusValue, sumOfSamples } from 'zg-gateway';

/** A vLLM `/metrics` page as vLLM 0.6–0.8 writes it (prometheus_client text format), shortened. */
const VLLM_PAGE = `# HELP python_gc_objects_collected_total Objects collected during gc
# TYPE python_gc_objects_collected_total counter
python_gc_objects_collected_total{generation="0"} 12345.0
python_gc_objects_collected_total{generation="1"} 678.0
# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.
# TYPE process_start_time_seconds gauge
process_start_time_seconds 1.71234567891e+09
# HELP vllm:cache_config_info Information of the LLMEngine CacheConfig
# TYPE vllm:cache_config_info gauge
vllm:cache_config_info{block_size="16",cache_dtype="auto",enable_prefix_caching="True",gpu_memory_utilization="0.9",num_gpu_blocks="27932",num_cpu_blocks="2048"} 1.0
# HELP vllm:num_requests_running Number of requests currently running on GPU.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{model_name="meta-llama/Llama-3.1-8B-Instruct"} 7.0
# HELP vllm:num_requests_waiting Number of requests waiting to be processed.
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{model_name="meta-llama/Llama-3.1-8B-Instruct"} 3.0
# HELP vllm:gpu_cache_usage_perc GPU KV-cache usage. 1 means 100 percent usage.
# TYPE vllm:gpu_cache_usage_perc gauge
vllm:gpu_cache_usage_perc{model_name="meta-llama/Llama-3.1-8B-Instruct"} 0.4375
# HELP vllm:prompt_tokens_total Number of prefill tokens processed.
# TYPE vllm:prompt_tokens_total counter
vllm:prompt_tokens_total{model_name="meta-llama/Llama-3.1-8B-Instruct"} 1.048576e+06
# HELP vllm:time_to_first_token_seconds Histogram of time to first token in seconds.
# TYPE vllm:time_to_first_token_seconds histogram
vllm:time_to_first_token_seconds_sum{model_name="meta-llama/Llama-3.1-8B-Instruct"} 12.5
vllm:time_to_first_token_seconds_bucket{le="0.001",model_name="meta-llama/Llama-3.1-8B-Instruct"} 0.0
vllm:time_to_first_token_seconds_bucket{le="0.5",model_name="meta-llama/Llama-3.1-8B-Instruct"} 40.0
vllm:time_to_first_token_seconds_bucket{le="+Inf",model_name="meta-llama/Llama-3.1-8B-Instruct"} 42.0
vllm:time_to_first_token_seconds_count{model_name="meta-llama/Llama-3.1-8B-Instruct"} 42.0
# HELP vllm:spec_decode_draft_acceptance_rate Speculative token acceptance rate.
# TYPE vllm:spec_decode_draft_acceptance_rate gauge
vllm:spec_decode_draft_acceptance_rate{model_name="meta-llama/Llama-3.1-8B-Instruct"} NaN
`;

describe('parsePrometheusText', () => {
  it('reads a vLLM page: counters, gauges with labels, histograms, comments, NaN', () => {
    const { samples, types, skipped } = parsePrometheusText(VLLM_PAGE);
    assert.equal(skipped, 0);
    assert.equal(samples.length, 14);
    assert.equal(types.get('vllm:num_requests_running'), 'gauge');
    assert.equal(types.get('vllm:prompt_tokens_total'), 'counter');
    assert.equal(types.get('vllm:time_to_first_token_seconds'), 'histogram');
    assert.equal(sumOfSamples(samples, 'vllm:num_requests_running'), 7);
    assert.equal(sumOfSamples(samples, 'vllm:num_requests_waiting'), 3);
    assert.equal(sumOfSamples(samples, 'vllm:prompt_tokens_total'), 1_048_576);
    assert.equal(sumOfSamples(samples, 'python_gc_objects_collected_total'), 13_023, 'summed over label sets');
    assert.equal(sumOfSamples(samples, 'process_start_time_seconds'), 1_712_345_678.91);
    assert.equal(sumOfSamples(samples, 'vllm:num_requests_swapped'), undefined);
    assert.ok(Number.isNaN(sumOfSamples(samples, 'vllm:spec_decode_draft_acceptance_rate')));
    const inf = samples.find((sample) => sample.labels.le === '+Inf');
    assert.equal(inf?.name, 'vllm:time_to_first_token_seconds_bucket');
    assert.equal(inf?.value, 42);
    const info = samples.find((sample) => sample.name === 'vllm:cache_config_info');
    assert.equal(info?.labels.num_gpu_blocks, '27932');
    assert.equal(Object.keys(info?.labels ?? {}).length, 6);
  });

  it('reads infinities, exponents, timestamps, escapes, spaces and a trailing comma in labels', () => {
    const text = [
      'a +Inf',
      'b -Inf 1700000000000',
      'c{} 1e-3',
      'd{path="C:\\\\dir",msg="say \\"hi\\"\\nbye",comma="x,y} z"} -2.5',
      'e { job = "j" , } \t 4 ',
      'f{le="+Inf",} Inf',
      'g 0x1F',
      'h{unterminated="x} 1',
      'i{1bad="x"} 1',
      'j 1 2 3',
      '{no_name="x"} 1',
      'k',
      '  # indented comment',
      'l 5\r',
    ].join('\n');
    const { samples, skipped } = parsePrometheusText(text);
    const byName = new Map(samples.map((sample) => [sample.name, sample]));
    assert.equal(byName.get('a')?.value, Infinity);
    assert.equal(byName.get('b')?.value, -Infinity);
    assert.equal(byName.get('b')?.timestampMs, 1_700_000_000_000);
    assert.equal(byName.get('c')?.value, 0.001);
    assert.deepEqual({ ...byName.get('d')?.labels }, { path: 'C:\\dir', msg: 'say "hi"\nbye', comma: 'x,y} z' });
    assert.equal(byName.get('d')?.value, -2.5);
    assert.deepEqual({ ...byName.get('e')?.labels }, { job: 'j' });
    assert.equal(byName.get('e')?.value, 4);
    assert.equal(byName.get('f')?.value, Infinity);
    assert.equal(byName.get('l')?.value, 5);
    assert.deepEqual([...byName.keys()], ['a', 'b', 'c', 'd', 'e', 'f', 'l']);
    assert.equal(skipped, 6, 'hex, unterminated label, bad label name, extra fields, no name, no value');
  });

  it('keeps only the names asked for, without counting the rest as skipped', () => {
    const { samples, skipped } = parsePrometheusText(VLLM_PAGE, new Set(['vllm:num_requests_running', 'vllm:num_requests_waiting']));
    assert.deepEqual(
      samples.map((sample) => [sample.name, sample.value]),
      [
        ['vllm:num_requests_running', 7],
        ['vllm:num_requests_waiting', 3],
      ],
    );
    assert.equal(skipped, 0);
  });

  it('gives label objects without a prototype', () => {
    const [sample] = parsePrometheusText('x{__proto__="p",constructor="c"} 1').samples;
    assert.equal(sample?.labels.__proto__, 'p');
    assert.equal(sample?.labels.constructor, 'c');
    assert.equal(Object.getPrototypeOf(sample?.labels), null);
  });
});

describe('parsePrometheusValue', () => {
  it('reads Go float syntax and nothing else', () => {
    assert.deepEqual(['1', '-1.5', '.5', '5.', '1e3', '+2E-2', '+Inf', 'Inf', '-Inf'].map(parsePrometheusValue), [1, -1.5, 0.5, 5, 1000, 0.02, Infinity, Infinity, -Infinity]);
    assert.ok(Number.isNaN(parsePrometheusValue('NaN')));
    assert.deepEqual(['', 'nan', 'inf', '1,5', '0x10', '1e', 'one'].map(parsePrometheusValue), Array(7).fill(undefined));
  });
});
