using System.Globalization;
using System.Text.Json;
using CausalEval.Core;
using CausalEval.Core.Json;
using CausalEval.Models.Costs;
using CausalEval.Models.Providers;

namespace CausalEval.Models.Middleware;

/// <summary>The response cache: on by default, in <c>$XDG_CACHE_HOME/causaleval/</c> (else <c>~/.cache/causaleval/</c>).</summary>
public sealed record CacheSettings(bool Enabled = true, string? Directory = null);

/// <summary>
/// Retries, timeouts and the circuit breaker of every model call (defaults in brackets). A call is tried at most
/// 1 + <see cref="Retries"/> [6] times on 429, 408, 5xx, network errors, malformed answers and per-attempt timeouts,
/// waiting as long as the server asks (<c>retry-after-ms</c>, <c>Retry-After</c>) or else an exponential backoff from
/// <see cref="BackoffBase"/> [1 s] doubling up to <see cref="BackoffMax"/> [60 s] with jitter. Each attempt may take
/// <see cref="AttemptTimeout"/> [120 s], the whole call with its waits <see cref="CallTimeout"/> [10 min]. Per endpoint,
/// a circuit breaker opens for <see cref="BreakDuration"/> [30 s] when at least <see cref="BreakerMinimumCalls"/> [20]
/// calls within <see cref="BreakerSampling"/> [60 s] failed at a rate of <see cref="BreakerFailureRatio"/> [0.5] or more
/// (server errors, network errors and timeouts count; rate limits and refusals do not).
/// </summary>
public sealed record ResilienceSettings
{
    /// <summary>Retries after the first attempt.</summary>
    public int Retries { get; init; } = 6;
    /// <summary>The first backoff when the server names no wait.</summary>
    public TimeSpan BackoffBase { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>The longest backoff.</summary>
    public TimeSpan BackoffMax { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>The longest one attempt may take.</summary>
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(120);
    /// <summary>The longest a whole call may take, waits included.</summary>
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromMinutes(10);
    /// <summary>The failure rate that opens the circuit breaker.</summary>
    public double BreakerFailureRatio { get; init; } = 0.5;
    /// <summary>The fewest calls in the sampling window before the breaker may open.</summary>
    public int BreakerMinimumCalls { get; init; } = 20;
    /// <summary>The circuit breaker's sampling window.</summary>
    public TimeSpan BreakerSampling { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>How long an open breaker stays open.</summary>
    public TimeSpan BreakDuration { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// Optional limits on calls to one provider or one model: calls in flight, requests per minute, and tokens per minute
/// (estimated before the call as ⌈prompt characters / 4⌉ + max_tokens). Null: no limit.
/// </summary>
public sealed record CallLimits(int? Concurrency = null, int? RequestsPerMinute = null, int? TokensPerMinute = null)
{
    /// <summary>True when nothing is limited.</summary>
    public bool IsEmpty => Concurrency is null && RequestsPerMinute is null && TokensPerMinute is null;
}

/// <summary>
/// How a run makes model calls: the response cache, resilience, limits per provider (by prefix, e.g. <c>openai</c>) and per
/// model id, and the prices. Recorded in run.json as <c>call_policy</c> and read back by <c>--resume</c>.
/// </summary>
public sealed record CallPolicy
{
    /// <summary>The response cache.</summary>
    public CacheSettings Cache { get; init; } = new();
    /// <summary>Retries, timeouts and the circuit breaker.</summary>
    public ResilienceSettings Resilience { get; init; } = new();
    /// <summary>Limits per provider prefix (e.g. <c>openai</c>).</summary>
    public IReadOnlyDictionary<string, CallLimits> Providers { get; init; } = new Dictionary<string, CallLimits>();
    /// <summary>Limits per model id.</summary>
    public IReadOnlyDictionary<string, CallLimits> Models { get; init; } = new Dictionary<string, CallLimits>();
    /// <summary>The prices the run uses.</summary>
    public PriceTable Prices { get; init; } = PriceTable.Empty;

    /// <summary>The most bytes one response body may have [1 MiB]; a larger one is a <c>bad_response</c> (<see cref="ProviderHttp"/>).</summary>
    public long MaxResponseBytes { get; init; } = ProviderHttp.DefaultMaxResponseBytes;

    /// <summary>
    /// True: the run's <c>openai/</c> and <c>azure/</c> models answer through the provider's Batch API (<c>run --batch</c>,
    /// <see cref="Batch.BatchRuns"/>), and <see cref="Prices"/> already holds their batch rates.
    /// </summary>
    public bool Batch { get; init; }

    /// <summary>The smallest response cap accepted (an answer with its JSON envelope needs some room).</summary>
    public const int MinResponseBytes = 1024;

    /// <summary>
    /// The longest duration a setting takes (timeouts, backoff, the circuit breaker's windows): one day, the bound of the
    /// timers underneath (Polly's strategies); longer values would overflow or crash them.
    /// </summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromDays(1);

    /// <summary>The limits of a model id (exact id, or the id without its settings).</summary>
    public CallLimits? LimitsFor(string modelId) =>
        Models.TryGetValue(modelId, out var limits) || Models.TryGetValue(PriceTable.WithoutSettings(modelId), out limits) ? limits : null;

    /// <summary>run.json's <c>call_policy</c>: every knob, and the prices of <paramref name="models"/>.</summary>
    public string ToJson(IEnumerable<string> models)
    {
        var r = Resilience;
        var prices = new Dictionary<string, CallPolicyJson.Price?>(StringComparer.Ordinal);
        // Keyed by the id without its settings, as the table looks ids up (a key with ?temperature=… would never match).
        foreach (var model in models.Select(PriceTable.WithoutSettings).Distinct(StringComparer.Ordinal))
        {
            if (Prices.Find(model) is { } price)
            {
                // The cache-write price always written (the default multiplier resolved), so a resumed run prices cache writes as it began.
                prices[model] = new(price.InputPerMillion, price.OutputPerMillion, price.CachedInputPerMillion, price.CacheWritePerMillion);
            }
        }
        var json = new CallPolicyJson(new(Cache.Enabled, Cache.Directory), r.Retries, r.BackoffBase.TotalSeconds, r.BackoffMax.TotalSeconds,
            r.AttemptTimeout.TotalSeconds, r.CallTimeout.TotalSeconds,
            new(r.BreakerFailureRatio, r.BreakerMinimumCalls, r.BreakerSampling.TotalSeconds, r.BreakDuration.TotalSeconds),
            MaxResponseBytes, Limits(Providers), Limits(Models), prices, Batch);
        return JsonSerializer.Serialize(json, ModelsJsonContext.Default.CallPolicyJson);
    }

    private static Dictionary<string, CallPolicyJson.Limits?> Limits(IReadOnlyDictionary<string, CallLimits> limits) =>
        limits.OrderBy(p => p.Key, StringComparer.Ordinal)
            .ToDictionary(p => p.Key, p => (CallPolicyJson.Limits?)new CallPolicyJson.Limits(p.Value.Concurrency, p.Value.RequestsPerMinute, p.Value.TokensPerMinute), StringComparer.Ordinal);

    /// <summary>Reads run.json's <c>call_policy</c> back; the prices in it are the ones the run used (a changed price file does not matter).</summary>
    public static CallPolicy FromJson(string source, string json)
    {
        var file = JsonInput.Deserialize(source, json, ModelsJsonContext.Default.CallPolicyJson);
        var r = new ResilienceSettings();
        var breaker = file.CircuitBreaker;
        return new CallPolicy
        {
            Cache = new CacheSettings(file.Cache.Enabled, file.Cache.Dir),
            Resilience = new ResilienceSettings
            {
                Retries = file.Retries is { } retries ? JsonInput.InRange(retries, 0, int.MaxValue, source, "retries") : r.Retries,
                BackoffBase = Seconds(file.BackoffBaseSeconds, source, "backoff_base_s") ?? r.BackoffBase,
                BackoffMax = Seconds(file.BackoffMaxSeconds, source, "backoff_max_s") ?? r.BackoffMax,
                AttemptTimeout = Seconds(file.AttemptTimeoutSeconds, source, "attempt_timeout_s") ?? r.AttemptTimeout,
                CallTimeout = Seconds(file.CallTimeoutSeconds, source, "call_timeout_s") ?? r.CallTimeout,
                BreakerFailureRatio = breaker?.FailureRatio ?? r.BreakerFailureRatio,
                BreakerMinimumCalls = breaker?.MinimumCalls is { } calls
                    ? JsonInput.InRange(calls, 2, int.MaxValue, source, "circuit_breaker.minimum_calls")
                    : r.BreakerMinimumCalls,
                BreakerSampling = Seconds(breaker?.SamplingSeconds, source, "circuit_breaker.sampling_s") ?? r.BreakerSampling,
                BreakDuration = Seconds(breaker?.BreakSeconds, source, "circuit_breaker.break_s") ?? r.BreakDuration,
            },
            MaxResponseBytes = file.MaxResponseBytes is { } bytes
                ? bytes >= MinResponseBytes && bytes <= int.MaxValue
                    ? bytes
                    : throw new InputException(source, "max_response_bytes", $"{bytes} is out of range [{MinResponseBytes}, {int.MaxValue}]")
                : ProviderHttp.DefaultMaxResponseBytes,
            Providers = ReadLimits(file.Providers, source, "providers"),
            Models = ReadLimits(file.Models, source, "models"),
            Batch = file.Batch,
            Prices = file.Prices is { } prices
                ? new PriceTable(prices.Select(p =>
                {
                    var at = $"prices.{p.Key}";
                    var price = p.Value ?? throw new InputException(source, at, "required field is missing");
                    return new ModelPrice(p.Key, Price(price.InputPerMillion, source, $"{at}.input_per_million"),
                        Price(price.OutputPerMillion, source, $"{at}.output_per_million"),
                        price.CachedInputPerMillion is { } cached ? Price(cached, source, $"{at}.cached_input_per_million") : null,
                        price.CacheWritePerMillion is { } written ? Price(written, source, $"{at}.cache_write_per_million") : null);
                }), source)
                : PriceTable.Empty,
        };
    }

    /// <summary>A price in run.json: a negative one (an edited file) would make spend decrease.</summary>
    private static double Price(double value, string source, string path) => value >= 0 ? value : throw new InputException(source, path, "must be at least 0");

    private static TimeSpan? Seconds(double? value, string source, string path) => value is { } seconds
        ? seconds >= 0 && seconds <= MaxDuration.TotalSeconds ? TimeSpan.FromSeconds(seconds) : throw new InputException(source, path, "must be a number of seconds from 0 to 86400")
        : null;

    private static Dictionary<string, CallLimits> ReadLimits(Dictionary<string, CallPolicyJson.Limits?>? limits, string source, string path)
    {
        var result = new Dictionary<string, CallLimits>(StringComparer.Ordinal);
        foreach (var (key, entry) in limits ?? [])
        {
            var at = $"{path}.{key}";
            var value = entry ?? throw new InputException(source, at, "required field is missing");
            result[key] = new CallLimits(
                value.Concurrency is { } c ? JsonInput.InRange(c, 1, int.MaxValue, source, $"{at}.concurrency") : null,
                value.RequestsPerMinute is { } rpm ? JsonInput.InRange(rpm, 1, int.MaxValue, source, $"{at}.requests_per_minute") : null,
                value.TokensPerMinute is { } tpm ? JsonInput.InRange(tpm, 1, int.MaxValue, source, $"{at}.tokens_per_minute") : null);
        }
        return result;
    }

    /// <summary>A duration as plans write it: <c>500ms</c>, <c>30s</c>, <c>2m</c>, <c>1h</c>, or a plain number of seconds; at most <see cref="MaxDuration"/>.</summary>
    public static bool TryParseDuration(string text, out TimeSpan duration)
    {
        duration = default;
        text = text.Trim();
        (string Suffix, double Scale)[] units = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)];
        var scale = 1.0;
        foreach (var (suffix, factor) in units)
        {
            if (text.EndsWith(suffix, StringComparison.Ordinal) && !(suffix == "s" && text.EndsWith("ms", StringComparison.Ordinal)))
            {
                text = text[..^suffix.Length].TrimEnd();
                scale = factor;
                break;
            }
        }
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value) || value < 0
            || value * scale > MaxDuration.TotalSeconds)
        {
            return false;
        }
        duration = TimeSpan.FromSeconds(value * scale);
        return true;
    }
}
