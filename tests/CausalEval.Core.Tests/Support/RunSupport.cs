using CausalEval.Core.Agents;
using CausalEval.Core.Episodes;
using CausalEval.Core.Randomness;
using CausalEval.Core.Running;
using CausalEval.Core.Worlds;
using CausalEval.Core.Results;

namespace CausalEval.Core.Tests.Support;

/// <summary>A clock that never moves, so trial records are identical across runs.</summary>
internal sealed class FixedTimeProvider : TimeProvider
{
    public static readonly DateTimeOffset Now = new(2025, 1, 2, 3, 4, 5, TimeSpan.Zero);

    public override DateTimeOffset GetUtcNow() => Now;

    public override long GetTimestamp() => 1_000;
}

/// <summary>Keeps the records a run delivers, in delivery order.</summary>
internal sealed class InMemoryResultStore : IResultStore
{
    private readonly List<TrialRecord> _records = [];

    public IReadOnlyList<TrialRecord> Records
    {
        get
        {
            lock (_records)
            {
                return [.. _records];
            }
        }
    }

    public ValueTask AppendAsync(TrialRecord record, CancellationToken cancellationToken)
    {
        lock (_records)
        {
            _records.Add(record);
        }
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// Model ids <c>test/slow</c> (the expert, with a small pseudo-random delay before each answer, so that trials
/// finish out of order) and <c>test/flaky</c> (the expert, except that it throws on episodes listed in
/// <see cref="FailOn"/>).
/// </summary>
internal sealed class TestModelProvider : IModelProvider
{
    public HashSet<string> FailOn { get; } = new(StringComparer.Ordinal);

    /// <summary>Counts the trials of <c>test/stuck</c> that have started waiting.</summary>
    public StartedCounter Started { get; } = new();

    public string Prefix => "test";

    public AgentFactory Resolve(string name, string modelId) => name switch
    {
        "slow" => context => new SlowAgent(BuiltinAgents.All["expert"].Create(context), context.Seed),
        "flaky" => context => FailOn.Contains(context.Episode.Id)
            ? new ThrowingAgent(context.Episode.Id)
            : BuiltinAgents.All["expert"].Create(context),
        // Rate limited (a retryable failure) on the episodes in FailOn, else the expert.
        "limited" => context => FailOn.Contains(context.Episode.Id)
            ? new FailingAgent("rate_limited", "429 too many requests")
            : BuiltinAgents.All["expert"].Create(context),
        // An endpoint that is down: every call gives up with the circuit breaker open.
        "down" => _ => new FailingAgent("circuit_open", "the endpoint's circuit breaker is open after repeated failures"),
        // Waits (like a retry's back-off) until its trial is cancelled.
        "stuck" => _ => new StuckAgent(Started),
        _ => throw new InputException("--model", modelId, "unknown test model"),
    };

    private sealed class SlowAgent(IAgent inner, ulong seed) : IAgent
    {
        private readonly SeededRandom _random = new(seed);

        public async ValueTask<AgentDecision> DecideAsync(EpisodeView view, CancellationToken cancellationToken)
        {
            await Task.Delay(_random.NextInt(4), cancellationToken);
            return await inner.DecideAsync(view, cancellationToken);
        }
    }

    private sealed class FailingAgent(string kind, string message) : IAgent
    {
        public ValueTask<AgentDecision> DecideAsync(EpisodeView view, CancellationToken cancellationToken)
            => throw new AgentFailureException(kind, message);
    }

    private sealed class StuckAgent(StartedCounter started) : IAgent
    {
        public async ValueTask<AgentDecision> DecideAsync(EpisodeView view, CancellationToken cancellationToken)
        {
            started.Add();
            await Task.Delay(Timeout.Infinite, cancellationToken);
            throw new InvalidOperationException("unreachable");
        }
    }

    private sealed class ThrowingAgent(string episodeId) : IAgent
    {
        public ValueTask<AgentDecision> DecideAsync(EpisodeView view, CancellationToken cancellationToken)
            => view.StepIndex < 2
                ? new ValueTask<AgentDecision>(AgentDecision.Act(new Intervention(view.Brief.Variables[0], view.Brief.AllowedValues[0])))
                : throw new InvalidOperationException($"model backend failed on {episodeId}");
    }
}

/// <summary>A count that a test can wait on.</summary>
internal sealed class StartedCounter
{
    private int _count;
    private readonly SemaphoreSlim _signal = new(0);

    public int Count => Volatile.Read(ref _count);

    public void Add()
    {
        Interlocked.Increment(ref _count);
        _signal.Release();
    }

    /// <summary>Waits until <paramref name="count"/> have started (a guard against a hang, not a timing assertion).</summary>
    public async Task WaitForAsync(int count)
    {
        while (Count < count)
        {
            Assert.True(await _signal.WaitAsync(TimeSpan.FromMinutes(2)), "the trials never started");
        }
    }
}

/// <summary>A clock whose timestamps move on by <paramref name="step"/> each time one is read, so every interval check sees time pass.</summary>
internal sealed class SteppingTimeProvider(TimeSpan step) : TimeProvider
{
    private long _reads;

    public override DateTimeOffset GetUtcNow() => FixedTimeProvider.Now;

    public override long GetTimestamp() => Interlocked.Increment(ref _reads) * (long)(step.TotalSeconds * TimestampFrequency);
}
