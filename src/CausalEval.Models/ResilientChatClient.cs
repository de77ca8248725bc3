using CausalEval.Prompts.Agents;
using Microsoft.Extensions.AI;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace CausalEval.Models;

/// <summary>
/// Model calls that survive rate limits and faults: a delegating <see cref="IChatClient"/> around a Polly v8
/// <see cref="ResiliencePipeline"/>. From the outside in: the overall call timeout; retries of retryable failures
/// (<see cref="ModelCallException.Retryable"/>: 429, 408, 5xx, network errors, malformed answers; per-attempt timeouts;
/// an open circuit) with exponential backoff and jitter, or exactly the wait the server asked for; then, per attempt, the
/// call limits (<see cref="CallGate"/>s of the model and its provider: concurrency, requests and tokens per minute), the
/// endpoint's shared circuit breaker and the per-attempt timeout. Non-retryable failures (401, 403, 400, content filter,
/// quota) end the call at once. Every failure leaves as a classified <see cref="ModelCallException"/>; a success carries
/// its retry count in <see cref="ChatResponse.AdditionalProperties"/> (<see cref="ChatCall.RetriesKey"/>).
/// </summary>
internal sealed class ResilientChatClient : DelegatingChatClient
{
    private readonly ResiliencePipeline _call;
    private readonly ResiliencePipeline _attempt;
    private readonly IReadOnlyList<CallGate> _gates;
    private readonly ResilienceSettings _settings;

    public ResilientChatClient(IChatClient inner, ResilienceSettings settings, ResiliencePipeline endpointBreaker, IReadOnlyList<CallGate> gates,
        TimeProvider time) : base(inner)
    {
        _settings = settings;
        _gates = gates;
        var call = new ResiliencePipelineBuilder { TimeProvider = time }.AddTimeout(settings.CallTimeout);
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
        try
        {
            var response = await _call.ExecuteAsync(async token =>
            {
                attempts++;
                try
                {
                    using var lease = await EnterAsync(estimate, token).ConfigureAwait(false);
                    return await _attempt.ExecuteAsync(t => new ValueTask<ChatResponse>(base.GetResponseAsync(list, options, t)), token).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    last = ex;
                    throw;
                }
            }, cancellationToken).ConfigureAwait(false);
            (response.AdditionalProperties ??= [])[ChatCall.RetriesKey] = attempts - 1;
            return response;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (ex is ModelCallException or TimeoutRejectedException or BrokenCircuitException)
        {
            throw Final(ex, last, attempts);
        }
    }

    /// <summary>The classified failure that ends the call, saying how often it was tried.</summary>
    private ModelCallException Final(Exception ex, Exception? last, int attempts)
    {
        var tries = attempts == 1 ? "1 attempt" : $"{attempts} attempts";
        switch (ex)
        {
            case ModelCallException call:
                return call.Retryable
                    ? new ModelCallException(call.Kind, $"{call.Message} (gave up after {tries})", call.Retryable, call.Status, call.RetryAfter)
                    : call;
            case BrokenCircuitException:
                return new ModelCallException(ErrorKinds.CircuitOpen,
                    $"the endpoint's circuit breaker is open after repeated failures (gave up after {tries}){Last(last)}", retryable: true);
            default:
                // The overall timeout fired (the last attempt was cut short) or the last attempt timed out.
                var overall = last is not TimeoutRejectedException || attempts <= _settings.Retries;
                return new ModelCallException(ErrorKinds.Timeout, overall
                    ? $"no answer within the call timeout of {_settings.CallTimeout.TotalSeconds:0.###} s ({tries}){Last(last)}"
                    : $"no answer within the attempt timeout of {_settings.AttemptTimeout.TotalSeconds:0.###} s (gave up after {tries})", retryable: true);
        }
    }

    private static string Last(Exception? last) => last switch
    {
        ModelCallException call => $"; last failure: {call.Kind}: {call.Message}",
        TimeoutRejectedException => "; last failure: the attempt timed out",
        _ => "",
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
