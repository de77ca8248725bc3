using System.Globalization;
using CausalEval.Core.Agents;
using Microsoft.Extensions.AI;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;
using CausalEval.Models.Providers;
using CausalEval.Core.Results;

namespace CausalEval.Models.Middleware;

/// <summary>
/// Model calls that survive rate limits and faults: a delegating <see cref="IChatClient"/> around a Polly v8
/// <see cref="ResiliencePipeline"/>. From the outside in: the call's time budget (<see cref="ResilienceSettings.CallTimeout"/>);
/// retries of retryable failures (<see cref="ModelCallException.Retryable"/>: 429, 408, 5xx, network errors, malformed
/// answers; per-attempt timeouts; an open circuit) with exponential backoff and jitter, or exactly the wait the server
/// asked for — unless that wait is longer than what is left of the budget: then the call fails at once as
/// <c>rate_limited</c>, saying so; then, per attempt, the call limits (<see cref="CallGate"/>s of the model and its
/// provider: concurrency, requests and tokens per minute), the endpoint's shared circuit breaker and the per-attempt
/// timeout. Waiting for a limit's permit is the run's own queue, not the provider's slowness: it counts against neither
/// the attempt timeout nor the call's budget. Non-retryable failures (401, 403, 400, content filter, quota) end the call
/// at once. Every failure leaves as a classified <see cref="ModelCallException"/>; a success carries its retry count
/// (<see cref="ChatCall.RetriesKey"/>) and why each retry happened (<see cref="ChatCall.RetryReasonsKey"/>) in
/// <see cref="ChatResponse.AdditionalProperties"/>.
/// </summary>
internal sealed class ResilientChatClient : DelegatingChatClient
{
    private static readonly ResiliencePropertyKey<List<string>> ReasonsKey = new("causaleval.retry-reasons");

    private readonly ResiliencePipeline _call;
    private readonly ResiliencePipeline _attempt;
    private readonly IReadOnlyList<CallGate> _gates;
    private readonly ResilienceSettings _settings;
    private readonly TimeProvider _time;

    public ResilientChatClient(IChatClient inner, ResilienceSettings settings, ResiliencePipeline endpointBreaker, IReadOnlyList<CallGate> gates,
        TimeProvider time) : base(inner)
    {
        _settings = settings;
        _gates = gates;
        _time = time;
        var call = new ResiliencePipelineBuilder { TimeProvider = time };
        if (settings.Retries > 0)
        {
            call.AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = settings.Retries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = settings.BackoffBase,
                MaxDelay = settings.BackoffMax,
                ShouldHandle = new PredicateBuilder()
                    .Handle<ModelCallException>(e => e.Retryable)
                    .Handle<TimeoutRejectedException>()
                    .Handle<BrokenCircuitException>(),
                // The server's own wait (Retry-After, retry-after-ms) wins over the backoff; an open circuit says when it may close.
                DelayGenerator = args => ValueTask.FromResult(args.Outcome.Exception switch
                {
                    ModelCallException { RetryAfter: { } wait } => (TimeSpan?)wait,
                    BrokenCircuitException { RetryAfter: { } wait } => wait,
                    _ => null,
                }),
                OnRetry = args =>
                {
                    if (args.Context.Properties.TryGetValue(ReasonsKey, out var reasons))
                    {
                        reasons.Add(string.Create(CultureInfo.InvariantCulture,
                            $"attempt {args.AttemptNumber + 1}: {Describe(args.Outcome.Exception)}; retried after {args.RetryDelay.TotalSeconds:0.###} s"));
                    }
                    return default;
                },
            });
        }
        _call = call.Build();
        _attempt = new ResiliencePipelineBuilder { TimeProvider = time }.AddPipeline(endpointBreaker).AddTimeout(settings.AttemptTimeout).Build();
    }

    /// <summary>A circuit breaker for one endpoint, shared by every model id that calls it.</summary>
    public static ResiliencePipeline EndpointBreaker(ResilienceSettings settings, TimeProvider time) =>
        new ResiliencePipelineBuilder { TimeProvider = time }
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                FailureRatio = settings.BreakerFailureRatio,
                MinimumThroughput = settings.BreakerMinimumCalls,
                SamplingDuration = settings.BreakerSampling,
                BreakDuration = settings.BreakDuration,
                // Signs that the endpoint is unwell; rate limits and refusals say nothing about its health.
                ShouldHandle = new PredicateBuilder()
                    .Handle<ModelCallException>(e => e.Kind is ErrorKinds.ServerError or ErrorKinds.Network or ErrorKinds.Timeout or ErrorKinds.BadResponse)
                    .Handle<TimeoutRejectedException>(),
            })
            .Build();

    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        var list = messages as IReadOnlyList<ChatMessage> ?? [.. messages];
        var estimate = EstimateTokens(list, options);
        var attempts = 0;
        Exception? last = null;
        using var budget = new CallBudget(_settings.CallTimeout, _time, cancellationToken);
        var reasons = new List<string>();
        var context = ResilienceContextPool.Shared.Get(budget.Token);
        context.Properties.Set(ReasonsKey, reasons);
        try
        {
            var response = await _call.ExecuteAsync(async (ctx, _) =>
            {
                attempts++;
                try
                {
                    IDisposable lease;
                    budget.Pause();
                    try
                    {
                        lease = await EnterAsync(estimate, ctx.CancellationToken).ConfigureAwait(false);
                    }
                    finally
                    {
                        budget.Resume();
                    }
                    using (lease)
                    {
                        return await _attempt.ExecuteAsync(t => new ValueTask<ChatResponse>(base.GetResponseAsync(list, options, t)), ctx.CancellationToken)
                            .ConfigureAwait(false);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    last = ex;
                    // A wait longer than what is left of the budget would only end in a timeout (and hold up Ctrl-C): fail now.
                    if (ex is ModelCallException { Retryable: true, RetryAfter: { } wait } asked && wait > budget.Left)
                    {
                        throw new ModelCallException(ErrorKinds.RateLimited, string.Create(CultureInfo.InvariantCulture,
                            $"{asked.Message}; the server asked to wait {wait.TotalSeconds:0.###} s, more than the {budget.Left.TotalSeconds:0.###} s left of the call timeout of {_settings.CallTimeout.TotalSeconds:0.###} s"),
                            retryable: false, asked.Status, wait);
                    }
                    throw;
                }
            }, context, 0).ConfigureAwait(false);
            (response.AdditionalProperties ??= [])[ChatCall.RetriesKey] = attempts - 1;
            if (reasons.Count > 0)
            {
                response.AdditionalProperties[ChatCall.RetryReasonsKey] = reasons.ToArray();
            }
            return response;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (OperationCanceledException) when (budget.Expired)
        {
            throw Final(new TimeoutRejectedException(), last, attempts, reasons, overall: true);
        }
        catch (Exception ex) when (ex is ModelCallException or TimeoutRejectedException or BrokenCircuitException)
        {
            throw Final(ex, last, attempts, reasons, overall: false);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <summary>The classified failure that ends the call, saying how often it was tried and why each retry happened.</summary>
    private ModelCallException Final(Exception ex, Exception? last, int attempts, List<string> reasons, bool overall)
    {
        var tries = attempts == 1 ? "1 attempt" : $"{attempts} attempts";
        var why = reasons.Count == 0 ? "" : $" [retries: {string.Join(" | ", reasons)}]";
        switch (ex)
        {
            case ModelCallException call:
                return call.Retryable || reasons.Count > 0
                    ? new ModelCallException(call.Kind, $"{call.Message} (gave up after {tries}){why}", call.Retryable, call.Status, call.RetryAfter)
                    : call;
            case BrokenCircuitException:
                return new ModelCallException(ErrorKinds.CircuitOpen,
                    $"the endpoint's circuit breaker is open after repeated failures (gave up after {tries}){Last(last)}{why}", retryable: true);
            default:
                return new ModelCallException(ErrorKinds.Timeout, overall
                    ? $"no answer within the call timeout of {_settings.CallTimeout.TotalSeconds:0.###} s ({tries}){Last(last)}{why}"
                    : $"no answer within the attempt timeout of {_settings.AttemptTimeout.TotalSeconds:0.###} s (gave up after {tries}){why}", retryable: true);
        }
    }

    private static string Last(Exception? last) => last switch
    {
        ModelCallException call => $"; last failure: {call.Kind}: {call.Message}",
        TimeoutRejectedException => "; last failure: the attempt timed out",
        _ => "",
    };

    private string Describe(Exception? ex) => ex switch
    {
        ModelCallException call => $"{call.Kind}: {call.Message}",
        TimeoutRejectedException => $"timeout: no answer within the attempt timeout of {_settings.AttemptTimeout.TotalSeconds:0.###} s",
        BrokenCircuitException => "circuit_open: the endpoint's circuit breaker is open",
        null => "no exception",
        _ => ex.GetType().Name,
    };

    private async ValueTask<IDisposable> EnterAsync(int estimate, CancellationToken cancellationToken)
    {
        if (_gates.Count == 0)
        {
            return NoLease.Instance;
        }
        var leases = new List<IDisposable>(_gates.Count);
        try
        {
            foreach (var gate in _gates)
            {
                leases.Add(await gate.EnterAsync(estimate, cancellationToken).ConfigureAwait(false));
            }
        }
        catch
        {
            leases.ForEach(l => l.Dispose());
            throw;
        }
        return leases.Count == 1 ? leases[0] : new AllLeases(leases);
    }

    /// <summary>Tokens a call may use, for the token limits: ⌈prompt characters / 4⌉ + max_tokens.</summary>
    public static int EstimateTokens(IReadOnlyList<ChatMessage> messages, ChatOptions? options)
    {
        long characters = 0;
        foreach (var message in messages)
        {
            characters += message.Text?.Length ?? 0;
        }
        return (int)Math.Min(int.MaxValue, (characters + 3) / 4 + (options?.MaxOutputTokens ?? 0));
    }

    private sealed class NoLease : IDisposable
    {
        public static readonly NoLease Instance = new();

        public void Dispose()
        {
        }
    }

    private sealed class AllLeases(List<IDisposable> leases) : IDisposable
    {
        public void Dispose() => leases.ForEach(l => l.Dispose());
    }
}

/// <summary>
/// One call's time budget: the call timeout, on the injected clock, with the clock stopped while the call waits for a
/// permit of the run's own limits (<see cref="Pause"/> … <see cref="Resume"/>). <see cref="Token"/> is cancelled when the
/// budget runs out (<see cref="Expired"/>) or the caller cancels.
/// </summary>
internal sealed class CallBudget : IDisposable
{
    private readonly object _gate = new();
    private readonly CancellationTokenSource _cancel = new();
    private readonly CancellationTokenRegistration _caller;
    private readonly ITimer _timer;
    private readonly TimeProvider _time;
    private TimeSpan _left;
    private long _since;
    private int _paused;
    private volatile bool _expired;

    public CallBudget(TimeSpan total, TimeProvider time, CancellationToken caller)
    {
        _time = time;
        _left = total;
        _since = time.GetTimestamp();
        _timer = time.CreateTimer(_ => Expire(), null, total, Timeout.InfiniteTimeSpan);
        _caller = caller.Register(() => _cancel.Cancel());
    }

    public CancellationToken Token => _cancel.Token;

    public bool Expired => _expired;

    /// <summary>What is left of the budget now.</summary>
    public TimeSpan Left
    {
        get
        {
            lock (_gate)
            {
                var left = _paused > 0 ? _left : _left - _time.GetElapsedTime(_since);
                return left > TimeSpan.Zero ? left : TimeSpan.Zero;
            }
        }
    }

    public void Pause()
    {
        lock (_gate)
        {
            if (_paused++ == 0 && !_expired)
            {
                _left -= _time.GetElapsedTime(_since);
                _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            }
        }
    }

    public void Resume()
    {
        lock (_gate)
        {
            if (--_paused == 0 && !_expired)
            {
                _since = _time.GetTimestamp();
                _timer.Change(_left > TimeSpan.Zero ? _left : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
            }
        }
    }

    private void Expire()
    {
        lock (_gate)
        {
            if (_paused > 0)
            {
                return;
            }
            _expired = true;
        }
        _cancel.Cancel();
    }

    public void Dispose()
    {
        _caller.Dispose();
        _timer.Dispose();
        _cancel.Dispose();
    }
}
