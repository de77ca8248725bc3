using System.Collections.Concurrent;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Polly;

namespace CausalEval.Models.Middleware;

/// <summary>
/// Where one model id's calls go: <paramref name="Provider"/> (the id's prefix), <paramref name="Endpoint"/> (the base URL,
/// or the Azure deployment's URL), <paramref name="Model"/> (the name sent to the provider) and <paramref name="ModelId"/>
/// (the whole id, settings included).
/// </summary>
public sealed record ChatEndpoint(string Provider, string Endpoint, string Model, string ModelId);

/// <summary>
/// The run-wide machinery every chat model's pipeline shares: the response cache file, one circuit breaker per endpoint,
/// one <see cref="CallGate"/> per provider and per model id with limits. <see cref="Configure"/> adds the middlewares to a
/// model's <see cref="ChatClientBuilder"/>: the response cache outermost (a cached answer waits for no limit and retries
/// nothing), then the resilience client.
/// </summary>
public sealed class ModelCalls : IDisposable
{
    private readonly ConcurrentDictionary<string, ResiliencePipeline> _breakers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, CallGate> _gates = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly Lazy<ResponseCacheStore?>? _cache;
    private readonly ILoggerFactory? _logging;

    /// <summary>The machinery of a run under <paramref name="policy"/>.</summary>
    /// <param name="policy">The run's call policy.</param>
    /// <param name="time">The clock of timeouts, backoff and limits.</param>
    /// <param name="environment">Where <c>XDG_CACHE_HOME</c> and <c>HOME</c> are read (default: the process environment).</param>
    /// <param name="warn">Where cache problems are reported (the run goes on without the cache).</param>
    /// <param name="logging">Where every call to a provider is logged (Microsoft.Extensions.AI's <c>UseLogging</c>); null: not logged.</param>
    /// <param name="batch">The Batch API's limits and polling, for a policy with <see cref="CallPolicy.Batch"/> (default: OpenAI's).</param>
    public ModelCalls(CallPolicy policy, TimeProvider time, Func<string, string?>? environment = null, Action<string>? warn = null,
        ILoggerFactory? logging = null, Batch.BatchSettings? batch = null)
    {
        Policy = policy;
        Batches = policy.Batch ? new Batch.BatchRuns(time, batch) : null;
        _time = time;
        _logging = logging;
        if (policy.Cache.Enabled)
        {
            CacheDirectory = policy.Cache.Directory ?? ResponseCacheStore.DefaultDirectory(environment ?? Environment.GetEnvironmentVariable);
            // Opened at the first model call, so checking a run's models creates nothing.
            _cache = new Lazy<ResponseCacheStore?>(() =>
            {
                try
                {
                    return new ResponseCacheStore(CacheDirectory, warn);
                }
                catch (Exception ex) when (ex is Microsoft.Data.Sqlite.SqliteException or IOException or UnauthorizedAccessException)
                {
                    warn?.Invoke($"the response cache in {CacheDirectory} cannot be opened ({ex.Message}); running without it");
                    return null;
                }
            });
        }
    }

    /// <summary>The run's call policy.</summary>
    public CallPolicy Policy { get; }

    /// <summary>The Batch API machinery of a batch run (<see cref="CallPolicy.Batch"/>); null: every call is live.</summary>
    public Batch.BatchRuns? Batches { get; }

    /// <summary>The response cache's folder; null with <c>--no-cache</c>.</summary>
    public string? CacheDirectory { get; }

    /// <summary>The response cache (opened on first use); null with <c>--no-cache</c> or when it cannot be opened.</summary>
    internal ResponseCacheStore? Cache => _cache?.Value;

    /// <summary>Adds the response cache (outermost) and the resilience client to a model's pipeline.</summary>
    public void Configure(ChatClientBuilder builder, ChatEndpoint endpoint)
    {
        if (_cache is { } cache)
        {
            builder.Use(inner => new ResponseCacheClient(inner, () => cache.Value, endpoint, _time));
        }
        var breaker = _breakers.GetOrAdd($"{endpoint.Provider} {endpoint.Endpoint}", _ => ResilientChatClient.EndpointBreaker(Policy.Resilience, _time));
        var gates = new List<CallGate>(2);
        if (Policy.LimitsFor(endpoint.ModelId) is { IsEmpty: false } modelLimits)
        {
            gates.Add(_gates.GetOrAdd("model " + endpoint.ModelId, name => new CallGate(name, modelLimits, _time)));
        }
        if (Policy.Providers.TryGetValue(endpoint.Provider, out var providerLimits) && !providerLimits.IsEmpty)
        {
            gates.Add(_gates.GetOrAdd("provider " + endpoint.Provider, name => new CallGate(name, providerLimits, _time)));
        }
        builder.Use(inner => new ResilientChatClient(inner, Policy.Resilience, breaker, gates, _time));
        if (_logging is { } logging)
        {
            // Inside the resilience client: every attempt is logged, retries too.
            builder.UseLogging(logging);
        }
    }

    /// <summary>Closes the response cache.</summary>
    public void Dispose()
    {
        Batches?.Dispose();
        if (_cache is { IsValueCreated: true, Value: { } store })
        {
            store.Dispose();
        }
        foreach (var gate in _gates.Values)
        {
            gate.Dispose();
        }
    }
}
