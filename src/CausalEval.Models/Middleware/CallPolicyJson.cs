using System.Text.Json.Serialization;

namespace CausalEval.Models.Middleware;

/// <summary>run.json's <c>call_policy</c> as written (System.Text.Json source generation; field order is the file's).</summary>
internal sealed record CallPolicyJson(
    [property: JsonPropertyName("cache")] CallPolicyJson.CacheJson Cache,
    [property: JsonPropertyName("retries")] int Retries,
    [property: JsonPropertyName("backoff_base_s")] double BackoffBaseSeconds,
    [property: JsonPropertyName("backoff_max_s")] double BackoffMaxSeconds,
    [property: JsonPropertyName("attempt_timeout_s")] double AttemptTimeoutSeconds,
    [property: JsonPropertyName("call_timeout_s")] double CallTimeoutSeconds,
    [property: JsonPropertyName("circuit_breaker")] CallPolicyJson.Breaker CircuitBreaker,
    [property: JsonPropertyName("max_response_bytes")] long MaxResponseBytes,
    [property: JsonPropertyName("providers")] Dictionary<string, CallPolicyJson.Limits> Providers,
    [property: JsonPropertyName("models")] Dictionary<string, CallPolicyJson.Limits> Models,
    [property: JsonPropertyName("prices")] Dictionary<string, CallPolicyJson.Price> Prices,
    [property: JsonPropertyName("batch"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] bool Batch)
{
    internal sealed record CacheJson([property: JsonPropertyName("enabled")] bool Enabled, [property: JsonPropertyName("dir")] string? Dir);

    internal sealed record Breaker(
        [property: JsonPropertyName("failure_ratio")] double FailureRatio,
        [property: JsonPropertyName("minimum_calls")] int MinimumCalls,
        [property: JsonPropertyName("sampling_s")] double SamplingSeconds,
        [property: JsonPropertyName("break_s")] double BreakSeconds);

    internal sealed record Limits(
        [property: JsonPropertyName("concurrency")] int? Concurrency,
        [property: JsonPropertyName("requests_per_minute")] int? RequestsPerMinute,
        [property: JsonPropertyName("tokens_per_minute")] int? TokensPerMinute);

    internal sealed record Price(
        [property: JsonPropertyName("input_per_million")] double InputPerMillion,
        [property: JsonPropertyName("output_per_million")] double OutputPerMillion,
        [property: JsonPropertyName("cached_input_per_million"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? CachedInputPerMillion,
        [property: JsonPropertyName("cache_write_per_million")] double CacheWritePerMillion);
}

/// <summary>The JSON files of CausalEval.Models, serialized by source-generated code (no reflection).</summary>
[JsonSerializable(typeof(CallPolicyJson))]
internal sealed partial class ModelsJsonContext : JsonSerializerContext;
