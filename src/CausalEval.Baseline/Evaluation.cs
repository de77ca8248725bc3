using System.Diagnostics;
using CausalEval.Core.Agents;
using CausalEval.Core.Episodes;
using CausalEval.Core.Running;
using CausalEval.Core.Tasks;
using CausalEval.Core.Results;

namespace CausalEval.Baseline;

/// <summary>What an evaluation found: scores per task, the policy's time per decision, and the run folder it wrote.</summary>
internal sealed record PolicyEvaluation(IReadOnlyList<TaskScores> Scores, long Decisions, double MillisecondsPerDecision, RunResult Run);

/// <summary>
/// Plays a policy on tasks' committed test (or validation) splits as a run (<see cref="RunSession"/>: the same runner, engine, scorers,
/// tally and files as <c>causaleval run</c>, run seed 0 by default, so the figures equal that command's) into a run
/// folder that <c>causaleval report</c> reads, and also reports subset adherence, which the leaderboard does not show.
/// </summary>
internal static class Evaluation
{
    /// <param name="directory">The run folder (new or empty); null: a temporary folder, removed afterwards.</param>
    /// <param name="modelId">The model id the trials record.</param>
    public static async Task<PolicyEvaluation> RunAsync(ITorchCheckpoint policy, TaskCatalog catalog, IReadOnlyList<string> taskIds,
        int? episodes = null, ulong seed = 0, CancellationToken cancellationToken = default, string? directory = null,
        string modelId = TorchModelProvider.DefaultModelId, RunIdentity? identity = null, string split = TaskDefinition.TestSplit)
    {
        var tasks = taskIds.Select(id => new TaskEpisodes(catalog.Load(id), [.. catalog.LoadEpisodes(catalog.Load(id), split, episodes)])).ToList();
        var timing = new Timing();
        var models = new ModelCatalog([new SingleModel(_ => new TimedAgent(policy.NewAgent(), timing))]);
        var plan = new RunPlan
        {
            Tasks = [.. tasks.Select(t => t.Task)],
            Models = [modelId],
            Seed = seed,
            Concurrency = 1,
            Episodes = episodes,
            Split = split,
        };
        var temporary = directory is null;
        directory ??= Path.Combine(Path.GetTempPath(), $"causaleval-evaluation-{Guid.NewGuid():N}");
        try
        {
            var session = RunSession.Start(plan, tasks, catalog, identity ?? new RunIdentity(), directory, TimeProvider.System);
            var run = await session.RunAsync(models, TimeProvider.System, cancellationToken: cancellationToken).ConfigureAwait(false);
            var rows = run.Leaderboard.ByTask().Where(r => r.Model == modelId).ToDictionary(r => r.Task!, StringComparer.Ordinal);
            return new PolicyEvaluation(
                [.. tasks.Select(t => Scores(t.Task, rows.GetValueOrDefault(t.Task.Id)))],
                timing.Decisions,
                timing.Decisions > 0 ? timing.Elapsed.TotalMilliseconds / timing.Decisions : 0,
                run);
        }
        finally
        {
            if (temporary && Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    /// <summary>The model card's figures for one task, from the run's leaderboard row (none: nothing played).</summary>
    private static TaskScores Scores(TaskDefinition task, LeaderboardRow? row) => new()
    {
        Task = task.Id,
        Version = task.Version,
        Episodes = (int)(row?.Trials ?? 0),
        Normalized = Round(row?.Normalized ?? 0),
        OptimalAction = Round(row?.OptimalActionRate ?? 0),
        ExploreCoverage = Round(row?.Coverage),
        SubsetAdherence = Round(row?.SubsetAdherence),
        StructureF1 = Round(row?.StructureF1),
        InvalidRate = Round(row?.InvalidRate ?? 0),
        Errors = (int)(row?.Errors ?? 0),
    };

    private static double Round(double value) => Math.Round(value, 4);

    private static double? Round(double? value) => value is { } v ? Math.Round(v, 4) : null;

    private sealed class SingleModel(AgentFactory factory) : IModelProvider
    {
        public string Prefix => TorchModelProvider.ModelPrefix;

        public AgentFactory Resolve(string name, string modelId) => factory;
    }

    private sealed class Timing
    {
        private long _ticks;
        private long _decisions;

        public long Decisions => Interlocked.Read(ref _decisions);

        public TimeSpan Elapsed => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _ticks));

        public void Add(long ticks)
        {
            Interlocked.Add(ref _ticks, ticks);
            Interlocked.Increment(ref _decisions);
        }
    }

    private sealed class TimedAgent(IAgent inner, Timing timing) : IAgent
    {
        public async ValueTask<AgentDecision> DecideAsync(EpisodeView view, CancellationToken cancellationToken)
        {
            var start = Stopwatch.GetTimestamp();
            var decision = await inner.DecideAsync(view, cancellationToken).ConfigureAwait(false);
            timing.Add(Stopwatch.GetTimestamp() - start);
            return decision;
        }
    }
}
