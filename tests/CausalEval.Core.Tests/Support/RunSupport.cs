using CausalEval.Core.Agents;
using CausalEval.Core.Episodes;
using CausalEval.Core.Randomness;
using CausalEval.Core.Running;
using CausalEval.Core.Worlds;

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

    public string Prefix => "test";

    public AgentFactory Resolve(string name, string modelId) => name switch
    {
        "slow" => context => new SlowAgent(BuiltinAgents.All["expert"].Create(context), context.Seed),
        "flaky" => context => FailOn.Contains(context.Episode.Id)
            ? new ThrowingAgent(context.Episode.Id)
            : BuiltinAgents.All["expert"].Create(context),
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

    private sealed class ThrowingAgent(string episodeId) : IAgent
    {
        public ValueTask<AgentDecision> DecideAsync(EpisodeView view, CancellationToken cancellationToken)
            => view.StepIndex < 2
                ? new ValueTask<AgentDecision>(AgentDecision.Act(new Intervention(view.Brief.Variables[0], view.Brief.AllowedValues[0])))
                : throw new InvalidOperationException($"model backend failed on {episodeId}");
    }
}
