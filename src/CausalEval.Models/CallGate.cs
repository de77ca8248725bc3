using System.Threading.RateLimiting;

namespace CausalEval.Models;

/// <summary>
/// The limits of one provider or one model (System.Threading.RateLimiting): calls in flight (a concurrency limiter), and
/// requests and estimated tokens per minute (sliding one-minute windows of six 10-second segments). Waiters queue in
/// arrival order. The windows slide on timers of the injected <see cref="TimeProvider"/>, so tests can use a fake clock.
/// </summary>
internal sealed class CallGate : IDisposable
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);
    private const int Segments = 6;

    private readonly ConcurrencyLimiter? _concurrency;
    private readonly SlidingWindowRateLimiter? _requests;
    private readonly SlidingWindowRateLimiter? _tokens;
    private readonly ITimer? _slide;

    public CallGate(string name, CallLimits limits, TimeProvider time)
    {
        Name = name;
        Limits = limits;
        if (limits.Concurrency is { } concurrency)
        {
            _concurrency = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
            {
                PermitLimit = concurrency, QueueLimit = int.MaxValue, QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            });
        }
        if (limits.RequestsPerMinute is { } requests)
        {
            _requests = Window_(requests);
        }
        if (limits.TokensPerMinute is { } tokens)
        {
            _tokens = Window_(tokens);
        }
        if (_requests is not null || _tokens is not null)
        {
            var segment = Window / Segments;
            _slide = time.CreateTimer(_ =>
            {
                _requests?.TryReplenish();
                _tokens?.TryReplenish();
            }, null, segment, segment);
        }
    }

    public string Name { get; }

    public CallLimits Limits { get; }

    private static SlidingWindowRateLimiter Window_(int permits) => new(new SlidingWindowRateLimiterOptions
    {
        PermitLimit = permits, Window = Window, SegmentsPerWindow = Segments, AutoReplenishment = false,
        QueueLimit = int.MaxValue, QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
    });

    /// <summary>Waits for a permit of every limit; dispose the lease when the call is over (it frees the concurrency slot).</summary>
    public async ValueTask<IDisposable> EnterAsync(int estimatedTokens, CancellationToken cancellationToken)
    {
        var leases = new List<RateLimitLease>(3);
        try
        {
            // A slot first, then the rate permits, so the windows count requests when they are really sent.
            if (_concurrency is not null)
            {
                leases.Add(await Acquire(_concurrency, 1, cancellationToken).ConfigureAwait(false));
            }
            if (_requests is not null)
            {
                leases.Add(await Acquire(_requests, 1, cancellationToken).ConfigureAwait(false));
            }
            if (_tokens is not null)
            {
                // A call larger than the whole window's allowance waits for an empty window rather than forever.
                leases.Add(await Acquire(_tokens, Math.Clamp(estimatedTokens, 1, Limits.TokensPerMinute!.Value), cancellationToken).ConfigureAwait(false));
            }
            return new Leases(leases);
        }
        catch
        {
            leases.ForEach(l => l.Dispose());
            throw;
        }
    }

    private static async ValueTask<RateLimitLease> Acquire(RateLimiter limiter, int permits, CancellationToken cancellationToken)
    {
        var lease = await limiter.AcquireAsync(permits, cancellationToken).ConfigureAwait(false);
        if (!lease.IsAcquired)
        {
            lease.Dispose();
            throw new InvalidOperationException("a call limiter refused a permit although its queue is unbounded");
        }
        return lease;
    }

    public void Dispose()
    {
        _slide?.Dispose();
        _concurrency?.Dispose();
        _requests?.Dispose();
        _tokens?.Dispose();
    }

    private sealed class Leases(List<RateLimitLease> leases) : IDisposable
    {
        public void Dispose() => leases.ForEach(l => l.Dispose());
    }
}
