using System.Threading.RateLimiting;

namespace CausalEval.Models.Middleware;

/// <summary>
/// The limits of one provider or one model: calls in flight (a concurrency limiter), and requests and estimated tokens
/// per minute (<see cref="RateWindow"/>: exact sliding one-minute windows). Waiters queue in arrival order. The windows
/// run on the injected <see cref="TimeProvider"/> only (System.Threading.RateLimiting's windows also check the real
/// stopwatch, so a timer that fires a little early skips a slide and halves the rate; on a fake clock they never slide).
/// </summary>
internal sealed class CallGate : IDisposable
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    private readonly ConcurrencyLimiter? _concurrency;
    private readonly RateWindow? _requests;
    private readonly RateWindow? _tokens;

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
            _requests = new RateWindow(requests, Window, time);
        }
        if (limits.TokensPerMinute is { } tokens)
        {
            _tokens = new RateWindow(tokens, Window, time);
        }
    }

    public string Name { get; }

    public CallLimits Limits { get; }

    /// <summary>Waits for a permit of every limit; dispose the lease when the call is over (it frees the concurrency slot).</summary>
    public async ValueTask<IDisposable> EnterAsync(int estimatedTokens, CancellationToken cancellationToken)
    {
        RateLimitLease? slot = null;
        try
        {
            // A slot first, then the rate permits, so the windows count requests when they are really sent.
            if (_concurrency is not null)
            {
                slot = await _concurrency.AcquireAsync(1, cancellationToken).ConfigureAwait(false);
                if (!slot.IsAcquired)
                {
                    throw new InvalidOperationException("a call limiter refused a permit although its queue is unbounded");
                }
            }
            if (_requests is not null)
            {
                await _requests.AcquireAsync(1, cancellationToken).ConfigureAwait(false);
            }
            if (_tokens is not null)
            {
                // A call larger than the whole window's allowance waits for an empty window rather than forever.
                await _tokens.AcquireAsync(Math.Clamp(estimatedTokens, 1, Limits.TokensPerMinute!.Value), cancellationToken).ConfigureAwait(false);
            }
            return new Lease(slot);
        }
        catch
        {
            slot?.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        _concurrency?.Dispose();
        _requests?.Dispose();
        _tokens?.Dispose();
    }

    private sealed class Lease(RateLimitLease? slot) : IDisposable
    {
        public void Dispose() => slot?.Dispose();
    }
}

/// <summary>
/// At most <c>permits</c> granted within any <c>window</c> of time, on the injected clock: a grant is remembered until it
/// is a window old; waiters are served in arrival order as old grants expire (a timer at the next expiry).
/// </summary>
internal sealed class RateWindow : IDisposable
{
    private readonly object _gate = new();
    private readonly int _permits;
    private readonly TimeSpan _window;
    private readonly TimeProvider _time;
    private readonly Queue<(DateTimeOffset At, int Count)> _granted = new();
    private readonly LinkedList<(int Count, TaskCompletionSource Done)> _waiters = new();
    private readonly ITimer _timer;
    private int _inWindow;

    public RateWindow(int permits, TimeSpan window, TimeProvider time)
    {
        _permits = permits;
        _window = window;
        _time = time;
        _timer = time.CreateTimer(_ => Serve(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    public Task AcquireAsync(int count, CancellationToken cancellationToken)
    {
        LinkedListNode<(int, TaskCompletionSource)> node;
        lock (_gate)
        {
            Expire(_time.GetUtcNow());
            if (_waiters.Count == 0 && _inWindow + count <= _permits)
            {
                Grant(count);
                return Task.CompletedTask;
            }
            node = _waiters.AddLast((count, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)));
            Schedule();
        }
        var done = node.Value.Item2;
        if (cancellationToken.CanBeCanceled)
        {
            var registration = cancellationToken.Register(() =>
            {
                lock (_gate)
                {
                    if (node.List is not null)
                    {
                        _waiters.Remove(node);
                    }
                }
                done.TrySetCanceled(cancellationToken);
            });
            _ = done.Task.ContinueWith(_ => registration.Dispose(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
        return done.Task;
    }

    private void Serve()
    {
        var ready = new List<TaskCompletionSource>();
        lock (_gate)
        {
            Expire(_time.GetUtcNow());
            while (_waiters.First is { } first && _inWindow + first.Value.Count <= _permits)
            {
                _waiters.RemoveFirst();
                if (first.Value.Done.Task.IsCompleted)
                {
                    continue; // cancelled meanwhile
                }
                Grant(first.Value.Count);
                ready.Add(first.Value.Done);
            }
            Schedule();
        }
        ready.ForEach(r => r.TrySetResult());
    }

    private void Grant(int count)
    {
        _granted.Enqueue((_time.GetUtcNow(), count));
        _inWindow += count;
    }

    private void Expire(DateTimeOffset now)
    {
        while (_granted.TryPeek(out var oldest) && oldest.At + _window <= now)
        {
            _granted.Dequeue();
            _inWindow -= oldest.Count;
        }
    }

    /// <summary>With waiters left, wakes up when the oldest grant leaves the window.</summary>
    private void Schedule()
    {
        if (_waiters.Count == 0 || !_granted.TryPeek(out var oldest))
        {
            _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            return;
        }
        var due = oldest.At + _window - _time.GetUtcNow();
        _timer.Change(due > TimeSpan.Zero ? due : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
    }

    public void Dispose() => _timer.Dispose();
}
