using Microsoft.Extensions.AI;
using CausalEval.Core.Agents;
using CausalEval.Models.Middleware;
using CausalEval.Models.Providers;

namespace CausalEval.Models.Tests;

/// <summary>
/// The resilience client in-process, over an instant inner client, on a fake clock that moves only when the test moves it:
/// what counts against a call's timeouts, exactly.
/// </summary>
public class ResilientChatClientTests
{
    /// <summary>Answers at once and counts the calls.</summary>
    private sealed class InstantClient : IChatClient
    {
        public int Calls;

        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref Calls);
            return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, "ACTION: do(A = 5)")));
        }

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
            CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }

    [Fact]
    public async Task Waiting_for_a_rate_limit_permit_counts_against_neither_the_attempt_nor_the_call_timeout()
    {
        var clock = new FakeClock();
        var settings = new ResilienceSettings { Retries = 0, AttemptTimeout = TimeSpan.FromSeconds(10), CallTimeout = TimeSpan.FromSeconds(30) };
        using var gate = new CallGate("provider openai", new CallLimits(RequestsPerMinute: 1), clock);
        var inner = new InstantClient();
        using var client = new ResilientChatClient(inner, settings, ResilientChatClient.EndpointBreaker(settings, clock), [gate], clock);

        var first = await client.GetResponseAsync("q");
        var second = client.GetResponseAsync("q");
        // 59 s of waiting for the next permit: twice the call timeout, six times the attempt timeout.
        for (var i = 0; i < 59; i++)
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            await Task.Yield();
        }
        Assert.False(second.IsCompleted, "the second call ran before its permit");
        clock.Advance(TimeSpan.FromSeconds(1));
        var answer = await second;

        Assert.Equal("ACTION: do(A = 5)", answer.Text);
        Assert.Equal(2, inner.Calls);
        Assert.Equal(0, ChatCall.Retries(answer.AdditionalProperties));
        Assert.Equal("ACTION: do(A = 5)", first.Text);
    }

    [Fact]
    public async Task Time_spent_in_attempts_and_back_off_still_counts_against_the_call_timeout()
    {
        var clock = new FakeClock();
        var settings = new ResilienceSettings { Retries = 5, AttemptTimeout = TimeSpan.FromSeconds(10), CallTimeout = TimeSpan.FromSeconds(25) };
        var hanging = new HangingClient();
        using var client = new ResilientChatClient(hanging, settings, ResilientChatClient.EndpointBreaker(settings, clock), [], clock);

        var call = client.GetResponseAsync("q");
        for (var i = 0; i < 60 && !call.IsCompleted; i++)
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(5);
        }

        var error = await Assert.ThrowsAsync<ModelCallException>(() => call);
        Assert.Equal("timeout", error.Kind);
        Assert.Contains("call timeout of 25 s", error.Message);
        Assert.InRange(hanging.Calls, 2, 3);
    }

    /// <summary>Never answers (until cancelled).</summary>
    private sealed class HangingClient : IChatClient
    {
        public int Calls;

        public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref Calls);
            await Task.Delay(Timeout.Infinite, cancellationToken);
            throw new InvalidOperationException("unreachable");
        }

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
            CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}
