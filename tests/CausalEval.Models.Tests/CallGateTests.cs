using CausalEval.Models.Middleware;

namespace CausalEval.Models.Tests;

/// <summary>The call limits' windows run on the injected clock alone: a fake clock slides them exactly.</summary>
public class CallGateTests
{
    [Fact]
    public async Task Requests_per_minute_the_third_of_two_a_minute_is_granted_when_the_first_leaves_the_window()
    {
        var clock = new FakeClock();
        using var gate = new CallGate("g", new CallLimits(RequestsPerMinute: 2), clock);
        using var first = await gate.EnterAsync(1, default);
        clock.Advance(TimeSpan.FromSeconds(15));
        using var second = await gate.EnterAsync(1, default);

        var third = gate.EnterAsync(1, default).AsTask();
        var fourth = gate.EnterAsync(1, default).AsTask();
        clock.Advance(TimeSpan.FromSeconds(44.9));
        await Task.Delay(20);
        Assert.False(third.IsCompleted, "granted before the first request left the window");
        clock.Advance(TimeSpan.FromSeconds(0.1));
        (await third).Dispose();
        Assert.False(fourth.IsCompleted);
        clock.Advance(TimeSpan.FromSeconds(15));
        (await fourth).Dispose();
    }

    [Fact]
    public async Task Tokens_per_minute_a_waiter_that_is_cancelled_leaves_the_queue()
    {
        var clock = new FakeClock();
        using var gate = new CallGate("g", new CallLimits(TokensPerMinute: 100), clock);
        using var first = await gate.EnterAsync(80, default);
        using var cancel = new CancellationTokenSource();

        var big = gate.EnterAsync(50, cancel.Token).AsTask();
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => big);

        // The cancelled waiter no longer holds up a call that fits.
        (await gate.EnterAsync(20, default)).Dispose();
    }
}
