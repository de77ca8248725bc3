using System.Text.Json.Serialization;
using CausalEval.Core.Json;
using CausalEval.Models.Batch;
using CausalEval.Models.Costs;

namespace CausalEval.Models.Middleware;

/// <summary>
/// run.json's <c>call_policy</c> (System.Text.Json source generation; field order is the file's). Every field is written;
/// on read all but <c>cache.enabled</c> and the prices' two rates are optional (older runs lack some) and unknown fields
/// are skipped, as the hand-written reader did.
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Skip)]
internal sealed record CallPolicyJson(
    [property: JsonPropertyName("cache")] CallPolicyJson.CacheJson Cache,
    [property: JsonPropertyName("retries")] int? Retries = null,
    [property: JsonPropertyName("backoff_base_s")] double? BackoffBaseSeconds = null,
    [property: JsonPropertyName("backoff_max_s")] double? BackoffMaxSeconds = null,
    [property: JsonPropertyName("attempt_timeout_s")] double? AttemptTimeoutSeconds = null,
    [property: JsonPropertyName("call_timeout_s")] double? CallTimeoutSeconds = null,
    [property: JsonPropertyName("circuit_breaker")] CallPolicyJson.Breaker? CircuitBreaker = null,
    [property: JsonPropertyName("max_response_bytes")] long? MaxResponseBytes = null,
    [property: JsonPropertyName("providers")] Dictionary<string, CallPolicyJson.Limits?>? Providers = null,
    [property: JsonPropertyName("models")] Dictionary<string, CallPolicyJson.Limits?>? Models = null,
    [property: JsonPropertyName("prices")] Dictionary<string, CallPolicyJson.Price?>? Prices = null,
    [property: JsonPropertyName("batch"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] bool Batch = false)
{
    [JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Skip)]
    internal sealed record CacheJson([property: JsonPropertyName("enabled")] bool Enabled, [property: JsonPropertyName("dir")] string? Dir = null);

    [JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Skip)]
    internal sealed record Breaker(
        [property: JsonPropertyName("failure_ratio")] double? FailureRatio = null,
        [property: JsonPropertyName("minimum_calls")] int? MinimumCalls = null,
        [property: JsonPropertyName("sampling_s")] double? SamplingSeconds = null,
        [property: JsonPropertyName("break_s")] double? BreakSeconds = null);

    [JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Skip)]
    internal sealed record Limits(
        [property: JsonPropertyName("concurrency")] int? Concurrency = null,
        [property: JsonPropertyName("requests_per_minute")] int? RequestsPerMinute = null,
        [property: JsonPropertyName("tokens_per_minute")] int? TokensPerMinute = null);

    [JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Skip)]
    internal sealed record Price(
        [property: JsonPropertyName("input_per_million")] double InputPerMillion,
        [property: JsonPropertyName("output_per_million")] double OutputPerMillion,
        [property: JsonPropertyName("cached_input_per_million"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? CachedInputPerMillion = null,
        [property: JsonPropertyName("cache_write_per_million")] double? CacheWritePerMillion = null);
}

/// <summary>
/// The JSON files of CausalEval.Models, serialized by source-generated code (no reflection): run.json's
/// <c>call_policy</c> (<see cref="CallPolicyJson"/>), the price file (<see cref="PriceFile"/>) and the batch state
/// (<see cref="BatchEvent"/>). Read through <see cref="JsonInput"/> for bad-input messages naming file and field.
/// The provider wire formats are the SDKs' or read defensively where they are (hostile input, size caps).
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true,
    Converters = [typeof(JsonInput.FiniteDoubleConverter)])]
[JsonSerializable(typeof(CallPolicyJson))]
[JsonSerializable(typeof(PriceFile))]
[JsonSerializable(typeof(BatchEvent))]
internal sealed partial class ModelsJsonContext : JsonSerializerContext;
